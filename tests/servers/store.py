"""Seed the emulators the object-store tests start (tests/stores.rs).

    store.py KIND ENDPOINT mkbucket BUCKET
    store.py KIND ENDPOINT put BUCKET KEY FILE [KEY FILE ...]
    store.py KIND ENDPOINT delete BUCKET KEY

KIND is s3 (moto), az (Azurite) or gs (fake-gcs-server). Uploads go through
each store's own client library (boto3, azure-storage-blob) or, for
fake-gcs-server, its JSON API (it refuses object_store's uploads).
"""
import json
import sys
import urllib.parse
import urllib.request

AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def s3(endpoint):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="test",
        aws_secret_access_key="testsecret",
        region_name="us-east-1",
    )


def azure(endpoint):
    from azure.storage.blob import BlobServiceClient

    conn = (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
        f"AccountKey={AZURITE_KEY};BlobEndpoint={endpoint}/devstoreaccount1;"
    )
    return BlobServiceClient.from_connection_string(conn)


def main(argv):
    kind, endpoint, op, bucket, *rest = argv
    if kind == "s3":
        c = s3(endpoint)
        if op == "mkbucket":
            c.create_bucket(Bucket=bucket)
        elif op == "put":
            for key, path in zip(rest[::2], rest[1::2]):
                c.upload_file(path, bucket, key)
        elif op == "delete":
            c.delete_object(Bucket=bucket, Key=rest[0])
    elif kind == "az":
        c = azure(endpoint)
        if op == "mkbucket":
            c.create_container(bucket)
        elif op == "put":
            for key, path in zip(rest[::2], rest[1::2]):
                with open(path, "rb") as f:
                    c.get_blob_client(bucket, key).upload_blob(f, overwrite=True)
        elif op == "delete":
            c.get_blob_client(bucket, rest[0]).delete_blob()
    elif kind == "gs":
        if op == "mkbucket":
            req = urllib.request.Request(
                f"{endpoint}/storage/v1/b",
                data=json.dumps({"name": bucket}).encode(),
                headers={"Content-Type": "application/json"},
                method="POST",
            )
            urllib.request.urlopen(req).read()
        elif op == "put":
            for key, path in zip(rest[::2], rest[1::2]):
                with open(path, "rb") as f:
                    data = f.read()
                q = urllib.parse.urlencode({"uploadType": "media", "name": key})
                req = urllib.request.Request(
                    f"{endpoint}/upload/storage/v1/b/{bucket}/o?{q}",
                    data=data,
                    headers={"Content-Type": "application/octet-stream"},
                    method="POST",
                )
                urllib.request.urlopen(req).read()
        elif op == "delete":
            key = urllib.parse.quote(rest[0], safe="")
            req = urllib.request.Request(f"{endpoint}/storage/v1/b/{bucket}/o/{key}", method="DELETE")
            urllib.request.urlopen(req).read()
    else:
        raise SystemExit(f"unknown store kind {kind}")


if __name__ == "__main__":
    main(sys.argv[1:])
