#!/usr/bin/python3
"""A small Kubernetes CRI v1 client for check_cri: Debian has no crictl.

    cri_client.py stubs TARBALL OUTDIR
    cri_client.py -a SOCKET -s STUBDIR COMMAND [ARGS...]

`stubs` generates the gRPC Python stubs from the CRI api.proto inside
TARBALL, the orig tarball of Debian's containerd source package (it vendors
k8s.io/cri-api; no binary package ships the .proto), with Debian's protoc
and grpc_python_plugin. Nothing of the CRI is kept in the repository.

Every other command makes one CRI call and prints its answer as JSON on
stdout (field names as in the .proto). A failed call prints
{"code": ..., "message": ...} on stderr and exits 1; a bad command line
exits 2. Configs are JSON files as crictl takes them (PodSandboxConfig,
ContainerConfig, field names as in the .proto).

Commands:
    version | images | pods | ps
    runp POD.json                         -> {"pod_sandbox_id": ...}
    inspectp POD_ID | stopp POD_ID | rmp POD_ID
    create POD_ID CONTAINER.json POD.json -> {"container_id": ...}
    start ID | inspect ID | rm ID
    stop ID TIMEOUT_S
    exec ID TIMEOUT_S CMD [ARG...]        -> {"stdout", "stderr", "exit_code"}
"""
import json
import os
import subprocess
import sys
import tarfile

# Where containerd's source vendors the CRI v1 API.
PROTO_IN_TARBALL = "vendor/k8s.io/cri-api/pkg/apis/runtime/v1/api.proto"


def without_gogoproto(text):
    """The .proto minus gogo.proto's import and its file options: Go-only
    code generation settings, and protoc could not resolve the import. Any
    other use of them (a field option) would need more than dropping a
    line, so it is an error rather than a silently lost field."""
    kept = [l for l in text.splitlines(True)
            if not l.startswith(('import "github.com/gogo/protobuf/gogoproto/',
                                 "option (gogoproto."))]
    if any("gogoproto" in l for l in kept):
        sys.exit("cri_client: api.proto uses gogoproto beyond file options")
    return "".join(kept)


def generate_stubs(tarball, outdir):
    """api.proto out of the tarball, compiled for Python."""
    with tarfile.open(tarball) as tar:
        member = next((m for m in tar.getmembers()
                       if m.name.endswith("/" + PROTO_IN_TARBALL)), None)
        if member is None:
            sys.exit(f"cri_client: no {PROTO_IN_TARBALL} in {tarball}")
        text = tar.extractfile(member).read().decode()
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "api.proto"), "w") as f:
        f.write(without_gogoproto(text))
    subprocess.run(["/usr/bin/protoc", "-I", outdir, "--python_out", outdir,
                    "--grpc_out", outdir,
                    "--plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin",
                    os.path.join(outdir, "api.proto")], check=True)


def load_stubs(stubdir):
    sys.path.insert(0, stubdir)
    import api_pb2
    import api_pb2_grpc
    return api_pb2, api_pb2_grpc


class Cri:
    def __init__(self, socket, stubdir):
        import grpc
        self.pb, grpc_stubs = load_stubs(stubdir)
        channel = grpc.insecure_channel("unix://" + socket)
        self.runtime = grpc_stubs.RuntimeServiceStub(channel)
        self.image = grpc_stubs.ImageServiceStub(channel)

    def config(self, path, kind):
        from google.protobuf import json_format
        with open(path) as f:
            return json_format.Parse(f.read(), getattr(self.pb, kind)())

    def call(self, service, method, **fields):
        request = getattr(self.pb, method + "Request")(**fields)
        return getattr(service, method)(request, timeout=120)


def as_json(message):
    from google.protobuf import json_format
    # zero values too: SANDBOX_READY and CONTAINER_CREATED are enum 0
    return json_format.MessageToDict(message, preserving_proto_field_name=True,
                                     including_default_value_fields=True)


def run(cri, cmd, args):
    rt, img = cri.runtime, cri.image
    simple = {  # command: (service, method, field naming the one argument)
        "inspectp": (rt, "PodSandboxStatus", "pod_sandbox_id"),
        "stopp": (rt, "StopPodSandbox", "pod_sandbox_id"),
        "rmp": (rt, "RemovePodSandbox", "pod_sandbox_id"),
        "start": (rt, "StartContainer", "container_id"),
        "inspect": (rt, "ContainerStatus", "container_id"),
        "rm": (rt, "RemoveContainer", "container_id"),
    }
    if cmd in simple and len(args) == 1:
        service, method, field = simple[cmd]
        return as_json(cri.call(service, method, **{field: args[0]}))
    if cmd == "version" and not args:
        return as_json(cri.call(rt, "Version"))
    if cmd == "images" and not args:
        return as_json(cri.call(img, "ListImages"))
    if cmd == "pods" and not args:
        return as_json(cri.call(rt, "ListPodSandbox"))
    if cmd == "ps" and not args:
        return as_json(cri.call(rt, "ListContainers"))
    if cmd == "runp" and len(args) == 1:
        pod = cri.config(args[0], "PodSandboxConfig")
        return as_json(cri.call(rt, "RunPodSandbox", config=pod))
    if cmd == "create" and len(args) == 3:
        return as_json(cri.call(
            rt, "CreateContainer", pod_sandbox_id=args[0],
            config=cri.config(args[1], "ContainerConfig"),
            sandbox_config=cri.config(args[2], "PodSandboxConfig")))
    if cmd == "stop" and len(args) == 2:
        return as_json(cri.call(rt, "StopContainer", container_id=args[0],
                                timeout=int(args[1])))
    if cmd == "exec" and len(args) >= 3:
        r = cri.call(rt, "ExecSync", container_id=args[0],
                     timeout=int(args[1]), cmd=args[2:])
        # bytes in the .proto; text is what the test compares
        return {"stdout": r.stdout.decode(errors="replace"),
                "stderr": r.stderr.decode(errors="replace"),
                "exit_code": r.exit_code}
    return None


def main(argv):
    if len(argv) == 3 and argv[0] == "stubs":
        generate_stubs(argv[1], argv[2])
        return 0
    if len(argv) < 5 or argv[0] != "-a" or argv[2] != "-s":
        print(__doc__, file=sys.stderr)
        return 2
    import grpc
    try:
        out = run(Cri(argv[1], argv[3]), argv[4], argv[5:])
    except grpc.RpcError as e:
        json.dump({"code": e.code().name, "message": e.details()}, sys.stderr)
        print(file=sys.stderr)
        return 1
    if out is None:
        print(__doc__, file=sys.stderr)
        return 2
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
