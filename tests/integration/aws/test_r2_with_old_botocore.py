"""Image writes to R2 work whatever botocore the Lambda runtime bundles.

The layer leaves boto3 to the runtime, and AWS does not promise which version that is. botocore 1.36
added the checksum options R2 needs switched off; older versions refuse options they do not know. This
runs the real R2 store with botocore 1.35 (installed from PyPI into a cache folder of the virtualenv)
in a separate interpreter, against a moto server, with the environment the functions get.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import boto3
import pytest

from imagegen.adapters.aws.provision import create_bucket
from imagegen.runtime.deployment import CHECKSUM_ENVIRONMENT
from tests.support.emulated_aws import moto_server

ROOT = Path(__file__).resolve().parents[3]
OLD_VERSION = "1.35.99"  # the last release before botocore 1.36 and its default checksums
OLD_PACKAGES = (f"boto3=={OLD_VERSION}", f"botocore=={OLD_VERSION}", "s3transfer==0.10.4")
CACHE = Path(sys.prefix) / f"old-botocore-{OLD_VERSION}"

SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sys
    import boto3, botocore
    from botocore.config import Config
    from imagegen.adapters.aws.r2_store import R2ImageStore, r2_client_config

    endpoint, bucket = sys.argv[1], sys.argv[2]
    try:
        Config(request_checksum_calculation="when_required")
        refuses_option = False
    except TypeError:
        refuses_option = True
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", config=r2_client_config())
    store = R2ImageStore(bucket, "https://images.example.test", client)
    data = bytes(range(256)) * 64
    ref = asyncio.run(store.put("images/old.png", data, "image/png"))
    found = asyncio.run(store.get("images/old.png"))
    print(json.dumps({
        "botocore": botocore.__version__,
        "refuses_option": refuses_option,
        "url": ref.url,
        "round_trip": found is not None and found[0] == data,
    }))
    """
)


@pytest.fixture(scope="session")
def old_botocore() -> Path:
    if not (CACHE / "botocore" / "__init__.py").exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
             "--target", str(CACHE), *OLD_PACKAGES],
            check=True,
            timeout=300,
        )  # fmt: skip
    return CACHE


def test_the_r2_store_writes_and_reads_images_with_a_botocore_older_than_1_36(old_botocore: Path) -> None:
    with moto_server() as endpoint:
        s3 = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="t",
            aws_secret_access_key="t",
        )
        create_bucket(s3, "images")
        environment = {
            **os.environ,
            **CHECKSUM_ENVIRONMENT,
            "PYTHONPATH": os.pathsep.join([str(old_botocore), str(ROOT / "functions")]),
            "AWS_ACCESS_KEY_ID": "t",
            "AWS_SECRET_ACCESS_KEY": "t",
        }
        result = subprocess.run(
            [sys.executable, "-c", SCRIPT, endpoint, "images"],
            capture_output=True,
            text=True,
            env=environment,
            timeout=120,
            check=False,
        )

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["botocore"] == OLD_VERSION
    assert report["refuses_option"] is True  # passing the options unconditionally would have broken it
    assert report["round_trip"] is True
    assert report["url"] == "https://images.example.test/images/old.png"
