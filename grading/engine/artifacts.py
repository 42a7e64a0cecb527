"""Identify an uploaded model file by its content and refuse everything we will not load.

Uploaded files are hostile. Nothing here executes or unpickles anything: we look
at magic bytes, walk pickle opcodes with ``pickletools`` (a decoder, not a VM),
decompress at most a few bytes of compressed streams, read zip central
directories without extracting, and read the outline of a protobuf (pure data, one level
deep: the graph is checked inside the sandbox child, see ``onnx_checks``).
The file *name* is never consulted: a pickle called ``model.onnx`` is a pickle.
"""

from __future__ import annotations

import bz2
import functools
import io
import json
import lzma
import os
import pickletools
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from grading.engine.errors import ArtifactRejected, RejectionCode

__all__ = [
    "ArtifactFormat",
    "ArtifactLimits",
    "ArtifactRejected",
    "read_artifact",
    "sniff_bytes",
    "sniff_format",
]

MiB = 1024 * 1024

EXPORT_HINT = "export your model to ONNX (skl2onnx) or skops"
PICKLE_MESSAGE = (
    "This file is a Python pickle. Pickles can run arbitrary code, so we never load them: "
    f"{EXPORT_HINT}."
)


class ArtifactFormat(StrEnum):
    """Model formats we are willing to load (each in the sandbox only)."""

    ONNX = "onnx"
    SKOPS = "skops"


@dataclass(frozen=True)
class ArtifactLimits:
    """Size caps applied before anything is parsed or extracted."""

    max_file_bytes: int = 20 * MiB
    # Sum of declared uncompressed sizes inside a zip (skops) file.
    max_uncompressed_bytes: int = 200 * MiB
    # Per-entry and whole-archive uncompressed/compressed ratio; real skops files are
    # mostly stored numpy arrays, nowhere near this.
    max_compression_ratio: float = 100.0
    # Entries smaller than this are ignored by the ratio check: tiny JSON files
    # compress absurdly well and cannot hurt anyone.
    ratio_check_min_bytes: int = 1 * MiB
    max_zip_entries: int = 10_000


DEFAULT_LIMITS = ArtifactLimits()


def mib_text(n_bytes: int) -> str:
    """A byte count in the one unit every size and memory limit is stated in, on the upload
    page, the 413 page, the command line and the sandbox's messages: ``20 MiB``."""
    value = n_bytes / MiB
    return f"{round(value, 1) if value >= 1 else round(value, 3):g} MiB"


def read_artifact(path: str | os.PathLike[str], limits: ArtifactLimits = DEFAULT_LIMITS) -> bytes:
    """Read an uploaded file into memory, refusing non-regular, empty or oversized files.

    Raises ``ArtifactRejected`` (codes ``not_a_file``, ``empty``, ``too_large``).
    """
    try:
        # O_NOFOLLOW: a symlink could point at a server file; O_NONBLOCK: a FIFO
        # would otherwise block open() forever.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise ArtifactRejected(
            RejectionCode.NOT_A_FILE, "The uploaded model file could not be read."
        ) from exc
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ArtifactRejected(
                RejectionCode.NOT_A_FILE, "The uploaded model is not a regular file."
            )
        _check_size(info.st_size, limits)
        # Read one byte past the cap in case the file grew after fstat.
        data = handle.read(limits.max_file_bytes + 1)
    _check_size(len(data), limits)
    return data


def _check_size(size: int, limits: ArtifactLimits) -> None:
    if size == 0:
        raise ArtifactRejected(RejectionCode.EMPTY, "The uploaded model file is empty.")
    if size > limits.max_file_bytes:
        raise ArtifactRejected(
            RejectionCode.TOO_LARGE,
            f"The uploaded model file is larger than the {mib_text(limits.max_file_bytes)} limit.",
        )


def sniff_format(
    path: str | os.PathLike[str], limits: ArtifactLimits = DEFAULT_LIMITS
) -> ArtifactFormat:
    """Return the format of the file at ``path``, judged by content only.

    Raises ``ArtifactRejected`` for anything that is not an ONNX model or a skops
    archive: pickles (any protocol, any compression), joblib files, numpy
    ``.npy``/``.npz``, other zips, zip bombs, empty/truncated/oversized/unknown files.
    """
    return sniff_bytes(read_artifact(Path(path), limits), limits)


def sniff_bytes(data: bytes, limits: ArtifactLimits = DEFAULT_LIMITS) -> ArtifactFormat:
    """Like ``sniff_format`` for bytes already in memory. Raises ``ArtifactRejected``."""
    _check_size(len(data), limits)
    # Order matters: explicit magic numbers first, then the heuristic pickle-0
    # check, then the (lenient) protobuf parse last.
    if _is_binary_pickle(data):
        raise ArtifactRejected(RejectionCode.PICKLE, PICKLE_MESSAGE)
    if data.startswith(b"\x93NUMPY"):
        raise ArtifactRejected(
            RejectionCode.NUMPY,
            f"This file is a numpy array (.npy), not a model: {EXPORT_HINT}.",
        )
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
        return _sniff_zip(data, limits)
    _refuse_compressed(data)
    if data.startswith(b"\x89HDF\r\n\x1a\n"):
        raise ArtifactRejected(
            RejectionCode.UNKNOWN_FORMAT,
            f"This file is HDF5 (for example a Keras .h5 model), which we do not accept: "
            f"{EXPORT_HINT}.",
        )
    if _looks_like_text_pickle(data):
        raise ArtifactRejected(RejectionCode.PICKLE, PICKLE_MESSAGE)
    return _sniff_onnx(data)


# --- pickles -------------------------------------------------------------------------

# Opcodes a protocol 0/1 pickle plausibly starts with (MARK, GLOBAL, INST, empty
# containers, NONE, simple scalars).
_PICKLE_START = frozenset(b"(ci}])NIFLSVUXGJKMT\x88\x89")
# Protocol-0 GLOBAL/INST: "c" or "i" + "module\nname\n" (e.g. b"cposix\nsystem\n").
_GLOBAL_RE = re.compile(rb"^[ci][A-Za-z_][\w.]*\n[A-Za-z_][\w.]*\n")


def _is_binary_pickle(data: bytes) -> bool:
    """Protocol 2+ pickles (and so joblib, cloudpickle, dill) start with PROTO 0x80 + version."""
    return len(data) >= 2 and data[0] == 0x80 and data[1] <= 5


def _looks_like_text_pickle(data: bytes, prefix_only: bool = False) -> bool:
    """Detect protocol 0/1 pickles by decoding (never executing) their opcodes.

    ``prefix_only``: ``data`` is just the start of a stream, so running out of
    bytes after a few valid opcodes still counts.
    """
    if not data or data[0] not in _PICKLE_START:
        return False
    if _GLOBAL_RE.match(data[:512]):
        return True
    ops = 0
    try:
        for opcode, _arg, _pos in pickletools.genops(io.BytesIO(data[: 1 * MiB])):
            ops += 1
            if opcode.name == "STOP":
                return True
            if ops >= 64:
                # 64 well-formed opcodes in a row from a plausible start byte is a
                # pickle, even if truncated; ONNX and zips fail on their first byte.
                return True
    except Exception:  # noqa: BLE001 - genops raises assorted errors on non-pickles
        return prefix_only and ops >= 4
    return prefix_only and ops >= 4


# --- compressed streams (joblib) -------------------------------------------------------


def _decompress_prefix(data: bytes, kind: str, n: int = 256) -> bytes:
    """Decompress at most ``n`` output bytes, so a bomb cannot expand here."""
    chunk = data[: 64 * 1024]
    try:
        if kind == "zlib":
            return zlib.decompressobj().decompress(chunk, n)
        if kind == "gzip":
            return zlib.decompressobj(wbits=31).decompress(chunk, n)
        if kind == "bz2":
            return bz2.BZ2Decompressor().decompress(chunk, max_length=n)
        if kind in ("xz", "lzma"):
            fmt = lzma.FORMAT_XZ if kind == "xz" else lzma.FORMAT_ALONE
            return lzma.LZMADecompressor(format=fmt).decompress(chunk, max_length=n)
    except (zlib.error, OSError, EOFError, lzma.LZMAError, ValueError):
        return b""
    return b""


def _compression_kind(data: bytes) -> str | None:
    if data.startswith(b"\x1f\x8b"):
        return "gzip"
    if data.startswith(b"BZh"):
        return "bz2"
    if data.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if data.startswith(b"\x5d\x00\x00"):
        return "lzma"
    if data.startswith(b"\x04\x22\x4d\x18"):
        return "lz4"
    if data.startswith(b"\x28\xb5\x2f\xfd"):
        return "zstd"
    if data.startswith(b"ZF0x"):
        # joblib < 0.10: "ZF" + hex(length) padded with "L", then a zlib-compressed pickle.
        return "joblib-zf"
    # zlib: CMF 0x78 (deflate, 32K window) and the header checksum rule.
    if len(data) >= 2 and data[0] == 0x78 and (data[0] * 256 + data[1]) % 31 == 0:
        return "zlib"
    return None


def _refuse_compressed(data: bytes) -> None:
    kind = _compression_kind(data)
    if kind is None:
        return
    # The old joblib "ZF" container always holds a pickle; no need to look inside.
    prefix = b"" if kind == "joblib-zf" else _decompress_prefix(data, kind)
    if kind == "joblib-zf" or _is_binary_pickle(prefix) or _looks_like_text_pickle(prefix, True):
        raise ArtifactRejected(
            RejectionCode.JOBLIB,
            f"This file is a compressed Python pickle ({kind}), as written by joblib.dump. "
            f"Pickles can run arbitrary code, so we never load them: {EXPORT_HINT}.",
        )
    raise ArtifactRejected(
        RejectionCode.COMPRESSED,
        f"This file is {kind}-compressed. Upload the model file itself, uncompressed: "
        f"{EXPORT_HINT}.",
    )


# --- zip (skops) -----------------------------------------------------------------------


def _sniff_zip(data: bytes, limits: ArtifactLimits) -> ArtifactFormat:
    """Accept a zip only if it is a plausible skops archive and not a bomb."""
    try:
        # Reads only the central directory; nothing is decompressed yet.
        archive = zipfile.ZipFile(io.BytesIO(data))
    except Exception as exc:  # zipfile raises many types (NotImplementedError, ...) on junk
        raise ArtifactRejected(
            RejectionCode.TRUNCATED,
            "This file looks like a zip archive (skops) but it is corrupted or truncated. "
            "Please upload it again.",
        ) from exc
    with archive:
        infos = archive.infolist()
        _check_zip_bomb(infos, len(data), limits)
        names = [i.filename for i in infos]
        if "schema.json" in names:
            _check_skops_schema(archive)
            return ArtifactFormat.SKOPS
        lowered = [n.lower() for n in names]
        if any(n.endswith((".pkl", ".pickle")) or "pickle" in n for n in lowered):
            raise ArtifactRejected(
                RejectionCode.PICKLE,
                "This zip archive contains a Python pickle (for example a PyTorch checkpoint). "
                f"Pickles can run arbitrary code, so we never load them: {EXPORT_HINT}.",
            )
        if lowered and all(n.endswith(".npy") for n in lowered):
            raise ArtifactRejected(
                RejectionCode.NUMPY,
                f"This file is a numpy archive (.npz) of arrays, not a model: {EXPORT_HINT}.",
            )
        raise ArtifactRejected(
            RejectionCode.ZIP_NOT_SKOPS,
            "This file is a zip archive but not a skops model (it has no schema.json). "
            f"Upload the model itself: {EXPORT_HINT}.",
        )


def _check_zip_bomb(
    infos: list[zipfile.ZipInfo], archive_bytes: int, limits: ArtifactLimits
) -> None:
    bomb = ArtifactRejected(
        RejectionCode.ZIP_BOMB,
        "This archive expands to far more data than a model needs (a zip bomb, or an "
        f"unreasonably large model). The limit is {mib_text(limits.max_uncompressed_bytes)} "
        f"uncompressed and a compression ratio of {limits.max_compression_ratio:g}.",
    )
    if len(infos) > limits.max_zip_entries:
        raise bomb
    total = compressed = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise ArtifactRejected(
                RejectionCode.ZIP_NOT_SKOPS, "This archive is encrypted; we cannot load it."
            )
        # The declared sizes are what zipfile will enforce when the child reads,
        # so judging them here is sound.
        total += info.file_size
        compressed += info.compress_size
        if info.file_size >= limits.ratio_check_min_bytes and (
            info.file_size > limits.max_compression_ratio * max(info.compress_size, 1)
        ):
            raise bomb
    if total > limits.max_uncompressed_bytes:
        raise bomb
    if total >= limits.ratio_check_min_bytes and total > limits.max_compression_ratio * max(
        archive_bytes, 1
    ):
        raise bomb
    if compressed > archive_bytes:
        # Declared compressed sizes larger than the file: the directory is lying.
        raise ArtifactRejected(
            RejectionCode.TRUNCATED, "This zip archive is corrupted or truncated."
        )


def _check_skops_schema(archive: zipfile.ZipFile) -> None:
    bad = ArtifactRejected(
        RejectionCode.TRUNCATED,
        "This looks like a skops file but its schema.json is missing or corrupted. "
        "Please save the model again with skops.io.dump.",
    )
    try:
        # Size already bounded by _check_zip_bomb; zipfile will not read past file_size.
        schema = json.loads(archive.read("schema.json"))
    except Exception as exc:  # bad CRC, unsupported method/version, bad JSON, ...
        raise bad from exc
    if not isinstance(schema, dict) or "protocol" not in schema or "__loader__" not in schema:
        raise bad


# --- ONNX ------------------------------------------------------------------------------


@functools.cache
def _onnx_shells() -> tuple[type, type]:
    """Two protobuf message classes that read an ONNX file one level deep: ``Model`` has
    ``ir_version`` (1), ``graph`` (7) and ``opset_import`` (8) of ModelProto, and ``Graph``
    the ``output`` (12) of GraphProto, every message-typed field as raw bytes. Every other
    field (the nodes, the weights) is skipped by its length, never decoded: a full parse of a
    2 MB file of a million empty nodes costs ~160 MB and builds a Python object per node."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    field = descriptor_pb2.FieldDescriptorProto
    proto = descriptor_pb2.FileDescriptorProto(
        name="mlsd_onnx_shell.proto", package="mlsd_onnx_shell", syntax="proto2")
    model = proto.message_type.add(name="Model")
    model.field.add(name="ir_version", number=1, type=field.TYPE_INT64,
                    label=field.LABEL_OPTIONAL)
    model.field.add(name="graph", number=7, type=field.TYPE_BYTES, label=field.LABEL_OPTIONAL)
    model.field.add(name="opset_import", number=8, type=field.TYPE_BYTES,
                    label=field.LABEL_REPEATED)
    graph = proto.message_type.add(name="Graph")
    graph.field.add(name="output", number=12, type=field.TYPE_BYTES, label=field.LABEL_REPEATED)
    pool = descriptor_pool.DescriptorPool()  # private: never clashes with onnx's own types
    pool.Add(proto)
    return (message_factory.GetMessageClass(pool.FindMessageTypeByName("mlsd_onnx_shell.Model")),
            message_factory.GetMessageClass(pool.FindMessageTypeByName("mlsd_onnx_shell.Graph")))


def _sniff_onnx(data: bytes) -> ArtifactFormat:
    """An ONNX model by its outline: a positive IR version, an opset and a graph with an
    output. Protobuf parsing only decodes data; it never runs code from the file. The graph
    itself is checked later, in the sandbox child (``onnx_checks``)."""
    from google.protobuf.message import DecodeError

    # ModelProto field 1 (ir_version, varint) is serialised first by every exporter.
    looks_like_onnx = data[:1] == b"\x08"
    model_shell, graph_shell = _onnx_shells()
    model, graph = model_shell(), graph_shell()
    try:
        model.ParseFromString(data)
        graph.ParseFromString(model.graph)
    except (DecodeError, ValueError, RuntimeError) as exc:
        raise _unknown_or_truncated(looks_like_onnx) from exc
    if model.ir_version <= 0 or not model.HasField("graph") or not model.opset_import:
        raise _unknown_or_truncated(looks_like_onnx)
    if not graph.output:
        raise _unknown_or_truncated(looks_like_onnx)
    return ArtifactFormat.ONNX


def _unknown_or_truncated(looks_like_onnx: bool) -> ArtifactRejected:
    if looks_like_onnx:
        return ArtifactRejected(
            RejectionCode.TRUNCATED,
            "This file looks like an ONNX model but it is truncated or corrupted. "
            "Please export and upload it again.",
        )
    return ArtifactRejected(
        RejectionCode.UNKNOWN_FORMAT,
        "We do not recognise this file as a model. Accepted formats: ONNX (skl2onnx) and skops.",
    )
