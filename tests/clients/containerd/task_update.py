#!/usr/bin/python3
"""containerd's Tasks/Update over gRPC, as the CRI plugin calls it (ctr 1.6 has no `task update`).

    task_update.py SOCKET NAMESPACE CONTAINER_ID 'LINUX_RESOURCES_JSON'

containerd 1.6 passes the request to the task's shim; the runc shim v2 decodes the resources and
runs `RUNTIME update --resources - ID` with them on stdin. Exit 0 when containerd answers OK,
else 1 with the gRPC status on stderr.

The request is encoded by hand (no generated code, only Debian's python3-grpcio), after
containerd v1.6's api/services/tasks/v1/tasks.proto:

    message UpdateTaskRequest {
        string container_id = 1;
        google.protobuf.Any resources = 2;
        map<string, string> annotations = 3;
    }

and google.protobuf.Any {string type_url = 1; bytes value = 2;}. The resources are an
opencontainers LinuxResources, which containerd's typeurl registers as
"types.containerd.io/opencontainers/runtime-spec/1/LinuxResources" and, not being a protobuf
message, marshals as JSON (typeurl.MarshalAny: json.Marshal); the shim json.Unmarshals it. The
namespace travels in the gRPC metadata "containerd-namespace" (containerd's namespaces.GRPCHeader).
The reply is google.protobuf.Empty.
"""
import json
import sys

import grpc

METHOD = "/containerd.services.tasks.v1.Tasks/Update"
TYPE_URL = "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources"


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def length_delimited(field, payload):
    """A field of wire type 2 (string, bytes, embedded message)."""
    return varint(field << 3 | 2) + varint(len(payload)) + payload


def update_request(container_id, resources):
    value = json.dumps(resources, separators=(",", ":")).encode()
    any_ = length_delimited(1, TYPE_URL.encode()) + length_delimited(2, value)
    return length_delimited(1, container_id.encode()) + length_delimited(2, any_)


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__.split("\n\n")[1])
    sock, namespace, container_id, text = sys.argv[1:]
    resources = json.loads(text)
    with grpc.insecure_channel("unix:" + sock) as channel:
        update = channel.unary_unary(METHOD)  # bytes in, bytes out
        try:
            reply = update(update_request(container_id, resources),
                           metadata=[("containerd-namespace", namespace)], timeout=60)
        except grpc.RpcError as e:
            print(f"{METHOD}: {e.code().name}: {e.details()}", file=sys.stderr)
            return 1
    if reply:
        print(f"{METHOD}: unexpected reply {reply!r} (want google.protobuf.Empty)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
