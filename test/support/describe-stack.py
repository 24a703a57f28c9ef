"""Prints as JSON what a CloudFormation stack deployed into moto created, read back from each
service's own API. Usage: describe-stack.py <endpoint> <stack> <template.json>

boto3 is here wherever moto is (moto depends on it); the Node project has no CloudFormation,
Lambda, IAM or CloudWatch Logs client. Credentials and region come from the environment.
"""

import json
import sys

import boto3

endpoint, stack_name, template_path = sys.argv[1:4]
with open(template_path, encoding="utf-8") as file:
    template = json.load(file)["Resources"]


def client(service):
    return boto3.client(service, endpoint_url=endpoint)


cloudformation, dynamodb, sqs, lam, iam, logs = (
    client(name) for name in ("cloudformation", "dynamodb", "sqs", "lambda", "iam", "logs")
)

stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
resources = [
    resource
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name)
    for resource in page["StackResourceSummaries"]
]
physical = {r["LogicalResourceId"]: r.get("PhysicalResourceId") for r in resources if r["LogicalResourceId"]}


def describe(logical_id, kind, physical_id):
    if kind == "AWS::DynamoDB::Table":
        return dynamodb.describe_table(TableName=physical_id)["Table"]
    if kind == "AWS::SQS::Queue":
        return sqs.get_queue_attributes(QueueUrl=physical_id, AttributeNames=["All"])["Attributes"]
    if kind == "AWS::Lambda::Function":
        return lam.get_function_configuration(FunctionName=physical_id)
    if kind == "AWS::Lambda::EventSourceMapping":
        return lam.get_event_source_mapping(UUID=physical_id)
    if kind == "AWS::IAM::Role":
        return iam.get_role(RoleName=physical_id)["Role"]
    if kind == "AWS::IAM::Policy":
        properties = template[logical_id]["Properties"]
        name = properties["PolicyName"]
        return {
            physical[role["Ref"]]: iam.get_role_policy(RoleName=physical[role["Ref"]], PolicyName=name)[
                "PolicyDocument"
            ]
            for role in properties["Roles"]
        }
    if kind == "AWS::IAM::ManagedPolicy":
        policy = iam.get_policy(PolicyArn=physical_id)["Policy"]
        version = iam.get_policy_version(PolicyArn=physical_id, VersionId=policy["DefaultVersionId"])
        return {"Policy": policy, "Document": version["PolicyVersion"]["Document"]}
    if kind == "AWS::Logs::LogGroup":
        groups = logs.describe_log_groups(logGroupNamePrefix=physical_id)["logGroups"]
        return next(group for group in groups if group["logGroupName"] == physical_id)
    return None


described = {}
for logical_id, physical_id in physical.items():
    kind = template.get(logical_id, {}).get("Type")
    if physical_id and kind:
        described[logical_id] = describe(logical_id, kind, physical_id)

json.dump({"stack": stack, "resources": resources, "described": described}, sys.stdout, default=str)
