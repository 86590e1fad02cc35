"""Set up a moto server started with INITIAL_NO_AUTH_ACTION_COUNT=3 (its
authentication on after three requests): an admin user (the three free
requests), then with its key a bucket holding FILE as a.tar.zst.age, a user
`reader` allowed to read it and a user `nobody` allowed nothing. Prints
`READER_ID READER_SECRET NOBODY_ID NOBODY_SECRET`.

    iam.py ENDPOINT BUCKET FILE
"""
import json
import sys

import boto3

endpoint, bucket, path = sys.argv[1:4]
kw = dict(endpoint_url=endpoint, region_name="us-east-1")
allow_all = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
iam = boto3.client("iam", aws_access_key_id="setup", aws_secret_access_key="setup", **kw)
iam.create_user(UserName="admin")
iam.put_user_policy(UserName="admin", PolicyName="all", PolicyDocument=json.dumps(allow_all))
key = iam.create_access_key(UserName="admin")["AccessKey"]
admin = dict(aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"], **kw)
iam = boto3.client("iam", **admin)
s3 = boto3.client("s3", **admin)
s3.create_bucket(Bucket=bucket)
s3.upload_file(path, bucket, "a.tar.zst.age")
read = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:ListBucket"],
            "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        }
    ],
}
out = []
for user, policy in [("reader", read), ("nobody", None)]:
    iam.create_user(UserName=user)
    if policy:
        iam.put_user_policy(UserName=user, PolicyName="read", PolicyDocument=json.dumps(policy))
    k = iam.create_access_key(UserName=user)["AccessKey"]
    out += [k["AccessKeyId"], k["SecretAccessKey"]]
print(" ".join(out))
