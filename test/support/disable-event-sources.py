"""Switches off moto's own poller of Lambda event source mappings (UpdateEventSourceMapping
Enabled=false). moto polls an SQS queue on every SendMessage and runs the function in Docker; where
Docker is not, each send receives the queue's visible messages, fails and makes them visible
again, counting a receive of each. A test that plays the poller itself switches moto's off first.
Usage: disable-event-sources.py <endpoint> <uuid>...

boto3 is here wherever moto is; the Node project has no Lambda client. Credentials and region come
from the environment.
"""

import sys

import boto3

endpoint, *uuids = sys.argv[1:]
lam = boto3.client("lambda", endpoint_url=endpoint)
for uuid in uuids:
    if lam.update_event_source_mapping(UUID=uuid, Enabled=False)["State"] != "Disabled":
        sys.exit(f"event source mapping {uuid} is still enabled")
