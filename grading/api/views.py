"""The API's page (the notebook example, the command line, and every endpoint rendered from
the OpenAPI schema, server-side: no script, nothing fetched from elsewhere) and the
command line's downloads."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from grading.api.endpoints import api
from grading.selectors.datasets import model_contract
from grading.validator.build import cli_wheel, cli_wheel_name, cli_zipapp
from grading.validator.notebook import notebook_example
from interviews.models import CaseStudy
from interviews.selectors.catalogue import case_study_list_published

WHEEL_NAME = cli_wheel_name()
METHODS = ("get", "post", "put", "patch", "delete")
# The case study the notebook example trains for, when it is published.
EXAMPLE_CASE = "ad-click-prediction"


def _endpoints(schema: dict) -> list[dict]:
    """Each operation of the schema, in its order, with what the page lists."""
    found = []
    for path, operations in schema["paths"].items():
        for method in METHODS:
            if method not in operations:
                continue
            operation = operations[method]
            found.append({
                "method": method.upper(),
                "path": path,
                "summary": operation.get("summary", ""),
                # Docstrings' ``literals``, for reading (the schema keeps them).
                "description": operation.get("description", "").replace("``", ""),
                "parameters": [
                    {"name": p["name"], "where": p["in"], "required": p.get("required", False)}
                    for p in operation.get("parameters", [])],
                "multipart": "multipart/form-data" in operation.get("requestBody", {}).get(
                    "content", {}),
                "responses": sorted(operation.get("responses", {})),
            })
    return found


def _example_case() -> CaseStudy | None:
    cases = list(case_study_list_published())
    preferred = [case for case in cases if case.slug == EXAMPLE_CASE]
    for case in preferred + cases:
        if model_contract(case_study=case) is not None:
            return case
    return None


@require_GET
def api_docs(request: HttpRequest) -> HttpResponse:
    """Public: what the API and the client do says nothing about anyone's data."""
    schema = api.get_openapi_schema()
    server = f"{request.scheme}://{request.get_host()}"
    case = _example_case()
    wheel_url = request.build_absolute_uri(reverse("api_cli_wheel"))
    example = None
    if case is not None:
        contract = model_contract(case_study=case)
        example = notebook_example(contract.spec, slug=case.slug, server=server,
                                   wheel_url=wheel_url,
                                   tokens_url=request.build_absolute_uri(reverse("api_tokens")))
    return render(request, "grading/api.html", {
        "schema": schema,
        "endpoints": _endpoints(schema),
        "base_url": f"{server}/api/v1",
        "server": server,
        "example": example,
        "example_case": case,
        "wheel_name": WHEEL_NAME,
        "wheel_url": wheel_url,
    })


@require_GET
def cli_zipapp_download(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(cli_zipapp(), content_type="application/zip")
    response["Content-Disposition"] = 'attachment; filename="mlsd.pyz"'
    return response


@require_GET
def cli_wheel_download(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(cli_wheel(), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{WHEEL_NAME}"'
    return response
