"""The deployment's dataset secret: where every random draw of a dataset comes from.

The repository is public, so a seed that is committed (or derivable from what is) lets
anyone rebuild the held-out labels and the public/private split. A dataset's seed is
therefore a keyed hash of a deployment secret::

    seed = int(HMAC-SHA256(secret, ["seed", case, generator version, size, data version]))

a 256-bit integer that ``np.random.SeedSequence`` takes whole. Only two other values are
derived from the secret, and both may be stored and printed:

* the **dataset id**, a truncated HMAC under another label, naming one build in the
  database, the admin, logs and folder names;
* the **key id**, a truncated HMAC naming the secret itself, so a machine with another
  secret says so instead of failing on a fingerprint mismatch.

Neither reveals the seed (HMAC outputs under different labels are independent), and with a
secret of at least 128 bits no one can search for it.

A secret is text of at least ``MIN_SECRET_CHARS`` characters whose UTF-8 bytes are the HMAC
key: ``secrets.token_hex(32)`` (64 hex digits, 256 bits) is what ``make run`` writes, and 32
random hex digits (128 bits) is the least accepted. Only the length and the variety of
characters can be checked; the operator must draw it at random.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field

#: 32 random hex digits are 128 bits; any other alphabet carries at least as much per char.
MIN_SECRET_CHARS = 32
#: Refuses the obvious placeholders ("0000...", "xxxx...", "abababab...").
MIN_DISTINCT_CHARS = 8
#: The key id of rows built before datasets had a secret (they came from a committed seed).
#: HMAC key ids are hex digits, so no secret ever matches it.
LEGACY_KEY_ID = "legacy"
KEY_ID_CHARS = 12
DATASET_ID_CHARS = 16


class DatasetSecretInvalid(ValueError):
    """The configured text is not a usable dataset secret (the message never repeats it)."""


@dataclass(frozen=True)
class DatasetSecret:
    """A validated dataset secret. Its ``repr`` shows the key id, never the key."""

    key: bytes = field(repr=False)

    @classmethod
    def from_text(cls, text: str) -> DatasetSecret:
        """The secret for ``text`` (surrounding whitespace ignored); raises
        ``DatasetSecretInvalid`` if it is too short or too uniform to be random."""
        text = text.strip()
        if len(text) < MIN_SECRET_CHARS:
            raise DatasetSecretInvalid(
                f"the dataset secret has {len(text)} characters; it needs at least "
                f"{MIN_SECRET_CHARS} random ones (for example "
                "`python -c 'import secrets; print(secrets.token_hex(32))'`)")
        if len(set(text)) < MIN_DISTINCT_CHARS:
            raise DatasetSecretInvalid(
                f"the dataset secret uses fewer than {MIN_DISTINCT_CHARS} different "
                "characters, so it is not random; generate one with secrets.token_hex(32)")
        return cls(text.encode("utf-8"))

    @classmethod
    def generate(cls) -> DatasetSecret:
        """A fresh random secret (256 bits): for throwaway builds such as measurements."""
        return cls.from_text(secrets.token_hex(32))

    def _mac(self, *label: str | int) -> bytes:
        # JSON of a list is an unambiguous encoding: no two labels share a message.
        message = json.dumps(["mlsd-dataset", *label], separators=(",", ":")).encode()
        return hmac.new(self.key, message, hashlib.sha256).digest()

    @property
    def key_id(self) -> str:
        """Names this secret (not the data): equal key ids mean equal secrets."""
        return self._mac("key-id").hex()[:KEY_ID_CHARS]

    def seed(self, *, case_slug: str, generator_version: int, size: str,
             data_version: int) -> int:
        """The seed of one build: a 256-bit non-negative integer. Never store or print it."""
        return int.from_bytes(
            self._mac("seed", case_slug, int(generator_version), size, int(data_version)),
            "big")

    def dataset_id(self, *, case_slug: str, generator_version: int, size: str,
                   data_version: int) -> str:
        """A public name for one build: says nothing about its seed or rows."""
        mac = self._mac("dataset-id", case_slug, int(generator_version), size, int(data_version))
        return mac.hex()[:DATASET_ID_CHARS]

    def __repr__(self) -> str:
        return f"DatasetSecret(key_id={self.key_id!r})"
