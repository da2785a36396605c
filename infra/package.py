"""Build the deployable package: `build/sam.json` + `build/deployment.zip`.

    .venv/bin/python infra/package.py

Writes the merge template from `infra/template.py`, runs
`chalice package --stage prod --merge-template ... build/`, then checks what
came out: every function Chalice generated has Flock's policy and prod
environment, every `@app.schedule` handler is a scheduled function, and the
zip holds no test tool and stays under the size limit.
"""
import collections
import json
import os
import subprocess
import sys
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
MERGE_TEMPLATE = os.path.join(BUILD, "flock-resources.json")
SAM = os.path.join(BUILD, "sam.json")
ZIP = os.path.join(BUILD, "deployment.zip")
ZIP_MAX_BYTES = 30 * 1024 * 1024
# Top-level names of test and dev tools that must never ship.
FORBIDDEN = {"moto", "pytest", "_pytest", "hypothesis", "cfnlint", "cfn_lint", "samtranslator",
             "pytest_timeout", "httpx", "werkzeug", "responses", "flask"}

# botocore ships the model of every AWS service (16 MiB of the zip); Lambda
# needs those Flock's code calls (chalicelib/aws.py, PynamoDB) and STS (the
# SDK's own credential chain). A service not kept here fails with botocore's
# UnknownServiceError at its first call: add it when the code first calls it.
BOTOCORE_SERVICES = frozenset({"dynamodb", "kms", "s3", "secretsmanager", "sqs", "sts"})

# `chalice package` imports app.py with the prod stage's environment; the
# template reads the same app, so read it the same way.
os.environ["FLOCK_STAGE"] = "prod"
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
sys.path.insert(0, ROOT)

from infra import template  # noqa: E402


def chalice_executable() -> str:
    candidate = os.path.join(os.path.dirname(sys.executable), "chalice")
    return candidate if os.path.exists(candidate) else "chalice"


def run_chalice() -> None:
    for path in (SAM, ZIP):
        if os.path.exists(path):
            os.remove(path)
    cmd = [chalice_executable(), "package", "--stage", template.STAGE, "--merge-template",
           os.path.relpath(MERGE_TEMPLATE, ROOT), "build/"]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=ROOT, env=os.environ.copy(), check=True)
    for path in (SAM, ZIP):
        if not os.path.exists(path):
            raise SystemExit(f"chalice package did not write {os.path.relpath(path, ROOT)}")


def precompile_zip() -> int:
    """Replace the .pyc Chalice copied from the dev tree (never valid: the zip
    dates every source 1980, so Lambda compiled every module at every cold
    start, measured ~0.75 s) with unchecked-hash bytecode compiled here,
    which Lambda's read-only /var/task then uses as is; and leave out the
    botocore models of services Flock never calls. Returns the .pyc count."""
    import compileall
    import py_compile
    import shutil
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(ZIP) as z:
            z.extractall(tmp)
        models = os.path.join(tmp, "botocore", "data")
        for name in os.listdir(models) if os.path.isdir(models) else ():
            if name not in BOTOCORE_SERVICES and os.path.isdir(os.path.join(models, name)):
                shutil.rmtree(os.path.join(models, name))
        for folder, dirs, files in os.walk(tmp):
            if "__pycache__" in dirs:
                shutil.rmtree(os.path.join(folder, "__pycache__"))
                dirs.remove("__pycache__")
            for name in files:
                if name.endswith(".pyc"):
                    os.remove(os.path.join(folder, name))
        compileall.compile_dir(tmp, quiet=2, workers=1,
                               invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        os.remove(ZIP)
        count = 0
        with zipfile.ZipFile(ZIP, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
            for folder, _, files in sorted(os.walk(tmp)):
                for name in sorted(files):
                    path = os.path.join(folder, name)
                    z.write(path, os.path.relpath(path, tmp))
                    count += name.endswith(".pyc")
    return count


def check_template(merge: dict) -> list[str]:
    """What the merged sam.json must hold; returns the problems found."""
    with open(SAM) as f:
        sam = json.load(f)
    resources = sam["Resources"]
    problems = []
    functions = template.chalice_functions()
    for function in functions:
        res = resources.get(function["id"])
        if res is None or res["Type"] != "AWS::Serverless::Function":
            problems.append(f"function {function['id']} missing from sam.json")
            continue
        props = res["Properties"]
        if props.get("Role") != {"Fn::GetAtt": [function["role_id"], "Arn"]}:
            problems.append(f"{function['id']} does not use role {function['role_id']}")
        env = props.get("Environment", {}).get("Variables", {})
        if env.get("FLOCK_STAGE") != template.STAGE:
            problems.append(f"{function['id']}: FLOCK_STAGE is {env.get('FLOCK_STAGE')!r}")
        for name, value in merge["Resources"][function["id"]]["Properties"]["Environment"]["Variables"].items():
            if env.get(name) != value:
                problems.append(f"{function['id']}: {name} is {env.get(name)!r}")
        events = props.get("Events", {})
        for event in function["events"]:
            if events.get(event["id"], {}).get("Type") != event["type"]:
                problems.append(f"{function['id']}: event {event['id']} ({event['type']}) missing")
    from chalice.utils import to_cfn_resource_name
    for name in sorted(_schedules(template.load_app())):
        events = resources.get(to_cfn_resource_name(name), {}).get("Properties", {}).get("Events", {})
        if not any(event.get("Type") == "Schedule" for event in events.values()):
            problems.append(f"@app.schedule handler {name} has no scheduled function in sam.json")
    for res_id, res in resources.items():
        if res["Type"] == "AWS::IAM::Role" and res["Properties"].get("Policies") != \
                merge["Resources"].get(res_id, {}).get("Properties", {}).get("Policies"):
            problems.append(f"role {res_id} does not carry Flock's policy")
    gateway = resources.get(template.REST_API_ID, {}).get("Properties", {}).get("GatewayResponses", {})
    if "MISSING_AUTHENTICATION_TOKEN" not in gateway:
        problems.append("RestAPI has no MISSING_AUTHENTICATION_TOKEN gateway response")
    return problems


def _schedules(app):
    from chalice.app import ScheduledEventConfig
    return [source.name for source in app.event_sources if isinstance(source, ScheduledEventConfig)]


def check_zip() -> list[str]:
    problems = []
    size = os.path.getsize(ZIP)
    by_top = collections.Counter()
    with zipfile.ZipFile(ZIP) as z:
        for info in z.infolist():
            by_top[info.filename.split("/", 1)[0]] += info.compress_size
    shipped = {(name.split("-", 1)[0] if name.endswith(".dist-info") else name.split(".", 1)[0]).lower()
               for name in by_top}
    for name in sorted(shipped & FORBIDDEN):
        problems.append(f"deployment.zip holds the dev/test tool {name!r}")
    if size >= ZIP_MAX_BYTES:
        problems.append(f"deployment.zip is {size / 2**20:.1f} MiB, the limit is {ZIP_MAX_BYTES / 2**20:.0f} MiB")
    print(f"deployment.zip: {size / 2**20:.1f} MiB zipped; largest top-level entries (compressed):")
    for name, nbytes in by_top.most_common(8):
        print(f"  {nbytes / 2**20:6.2f} MiB  {name}")
    return problems


def main() -> int:
    started = time.monotonic()
    merge = template.write(MERGE_TEMPLATE)
    print(f"wrote {os.path.relpath(MERGE_TEMPLATE, ROOT)} ({len(merge['Resources'])} resources)")
    run_chalice()
    print(f"precompiled {precompile_zip()} modules (unchecked-hash .pyc) into deployment.zip")
    problems = check_template(merge) + check_zip()
    for problem in problems:
        print("package check failed:", problem, file=sys.stderr)
    if problems:
        return 1
    print(f"build/sam.json and build/deployment.zip ready in {time.monotonic() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
