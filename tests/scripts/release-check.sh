#!/usr/bin/env bash
# Guards the release: the checks the release workflow runs before it builds anything, and a lint of
# the workflow itself that the test run runs offline. Needs python3 with PyYAML (lint) and, for
# self-test only, the Tauri CLI (npm @tauri-apps/cli@^2, installed into target/tools if missing).
#
#   release-check.sh lint [WORKFLOW]      the release workflow keeps its safety rules (default
#                                         .github/workflows/release.yml); prints one line per rule
#   release-check.sh tag-version TAG      TAG is v + the workspace version in Cargo.toml
#   release-check.sh updater-key [--release] [--config FILE]
#                                         the public key derived from $TAURI_SIGNING_PRIVATE_KEY (decrypted
#                                         with $TAURI_SIGNING_PRIVATE_KEY_PASSWORD) is the committed
#                                         plugins.updater.pubkey; --release also refuses the development key
#   release-check.sh self-test            every check above passes on good input and fails on broken
#                                         input: mutated copies of the workflow, a wrong tag, generated
#                                         throwaway key pairs (matching, mismatched, wrong password, dev key)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
export RELEASE_CHECK_ROOT="$root" RELEASE_CHECK_SCRIPT="$root/tests/scripts/release-check.sh"

if [[ ${1:-} == self-test ]]; then
  tauri="${TAURI_CLI:-$root/target/tools/node_modules/.bin/tauri}"
  if [[ ! -x $tauri ]]; then
    command -v npm >/dev/null || { echo "release-check: npm is needed for the Tauri CLI" >&2; exit 1; }
    echo "release-check: installing the Tauri CLI (npm @tauri-apps/cli@^2) into target/tools"
    npm install --silent --no-audit --no-fund --prefix "$root/target/tools" '@tauri-apps/cli@^2' >/dev/null
  fi
  export TAURI_CLI="$tauri"
fi

exec python3 - "$@" <<'PY'
import base64, contextlib, hashlib, io, json, os, re, struct, subprocess, sys, tempfile

ROOT = os.environ["RELEASE_CHECK_ROOT"]
SCRIPT = os.environ["RELEASE_CHECK_SCRIPT"]
WORKFLOW = os.path.join(ROOT, ".github/workflows/release.yml")
CONFIG = os.path.join(ROOT, "src-tauri/tauri.conf.json")
# Key ids of updater keys whose private half is not kept (the development key committed before the
# first release). A release signed for one of them could never be updated.
DEV_KEY_IDS = {"95D2AB13FE140F71"}
PUBLISH_JOB = "publish"
SHA_PIN = re.compile(r"^[^@\s]+@[0-9a-f]{40}$")


class Refused(Exception):
    pass


# ---- lint: the workflow's safety rules ---------------------------------------------------------

def load_workflow(path):
    import yaml  # PyYAML; imported here so tag-version and updater-key need nothing but python3
    with open(path) as file:
        return yaml.safe_load(file)


def triggers(workflow):
    # YAML 1.1 reads the bare key `on` as the boolean true.
    return workflow.get("on", workflow.get(True))


def all_uses(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "uses" and isinstance(value, str):
                yield value
            else:
                yield from all_uses(value)
    elif isinstance(node, list):
        for item in node:
            yield from all_uses(item)


def grants_write(permissions):
    if permissions is None:
        return False
    if isinstance(permissions, str):
        return permissions == "write-all"
    return any(value == "write" for value in permissions.values())


def needs_of(job):
    needs = job.get("needs", [])
    return [needs] if isinstance(needs, str) else list(needs)


def ancestors(jobs, name):
    seen, todo = set(), needs_of(jobs[name])
    while todo:
        current = todo.pop()
        if current in jobs and current not in seen:
            seen.add(current)
            todo.extend(needs_of(jobs[current]))
    return seen


def steps_running(jobs, job_names, command):
    for name in job_names:
        for step in jobs[name].get("steps", []):
            if command in str(step.get("run", "")):
                yield step


def rule_pinned(workflow):
    unpinned = [uses for uses in all_uses(workflow)
                if not uses.startswith("./") and not SHA_PIN.match(uses)]
    if unpinned:
        raise Refused("actions not pinned to a 40-hex commit SHA: " + ", ".join(unpinned))


def rule_permissions(workflow):
    top = workflow.get("permissions")
    if top is None:
        raise Refused("no top-level permissions: the default token may write")
    if grants_write(top):
        raise Refused(f"top-level permissions grant write: {top}")
    jobs = workflow.get("jobs", {})
    for name, job in jobs.items():
        if name != PUBLISH_JOB and grants_write(job.get("permissions")):
            raise Refused(f"job {name} may write ({job.get('permissions')}); only job {PUBLISH_JOB} may")
    publish = jobs.get(PUBLISH_JOB)
    if publish is None:
        raise Refused(f"no job named {PUBLISH_JOB}")
    permissions = publish.get("permissions") or {}
    if not isinstance(permissions, dict) or permissions.get("contents") != "write":
        raise Refused(f"job {PUBLISH_JOB} lacks contents: write")
    extra = {key: value for key, value in permissions.items() if key != "contents" and value == "write"}
    if extra:
        raise Refused(f"job {PUBLISH_JOB} may write more than contents: {extra}")


def rule_triggers(workflow):
    on = triggers(workflow)
    if not isinstance(on, dict) or set(on) != {"push"}:
        names = sorted(on) if isinstance(on, dict) else on
        raise Refused(f"the workflow must run on pushed tags only, not on: {names}")
    push = on["push"] or {}
    if set(push) != {"tags"}:
        raise Refused(f"push may only filter tags (a branch must never name a release): {sorted(push)}")
    bad = [pattern for pattern in push["tags"] if not str(pattern).startswith("v")]
    if bad:
        raise Refused(f"tag patterns must start with v: {bad}")


def rule_tag_version(workflow):
    jobs = workflow.get("jobs", {})
    if PUBLISH_JOB not in jobs:
        raise Refused(f"no job named {PUBLISH_JOB}")
    before = ancestors(jobs, PUBLISH_JOB)
    guards = [step for step in steps_running(jobs, before, "release-check.sh tag-version")
              if "github.ref_name" in str(step.get("run"))]
    if not guards:
        raise Refused(f"no `release-check.sh tag-version ${{{{ github.ref_name }}}}` step in a job {PUBLISH_JOB} needs")


def from_secret(env, name):
    return re.fullmatch(r"\$\{\{\s*secrets\.%s\s*\}\}" % name, str(env.get(name, "")).strip())


def rule_updater_key(workflow):
    jobs = workflow.get("jobs", {})
    if PUBLISH_JOB not in jobs:
        raise Refused(f"no job named {PUBLISH_JOB}")
    before = ancestors(jobs, PUBLISH_JOB)
    for step in steps_running(jobs, before, "release-check.sh updater-key --release"):
        env = step.get("env", {})
        if all(from_secret(env, name) for name in ("TAURI_SIGNING_PRIVATE_KEY", "TAURI_SIGNING_PRIVATE_KEY_PASSWORD")):
            return
    raise Refused(f"no `release-check.sh updater-key --release` step with the signing secrets in a job {PUBLISH_JOB} needs")


RULES = [
    ("actions pinned by commit SHA", rule_pinned),
    ("read-only token except contents: write on the publish job", rule_permissions),
    ("runs on v* tags only (no manual or branch trigger)", rule_triggers),
    ("tag must equal the workspace version before publishing", rule_tag_version),
    ("updater key pair checked before publishing", rule_updater_key),
]


def lint(path):
    workflow = load_workflow(path)
    failed = 0
    for title, rule in RULES:
        try:
            rule(workflow)
            print(f"ok    {title}")
        except Refused as refusal:
            print(f"FAIL  {title}: {refusal}")
            failed += 1
    return 1 if failed else 0


# ---- tag-version --------------------------------------------------------------------------------

def workspace_version(cargo_toml):
    section = None
    with open(cargo_toml) as file:
        for line in file:
            line = line.strip()
            if line.startswith("["):
                section = line
            elif section == "[workspace.package]":
                match = re.match(r'version\s*=\s*"([^"]+)"', line)
                if match:
                    return match.group(1)
    raise Refused(f"no version in [workspace.package] of {cargo_toml}")


def tag_version(tag, cargo_toml):
    version = workspace_version(cargo_toml)
    if not re.fullmatch(r"v\d+\.\d+\.\d+", tag):
        raise Refused(f"{tag!r} is not a release tag vX.Y.Z")
    if tag != f"v{version}":
        raise Refused(f"tag {tag} does not match the workspace version {version} (Cargo.toml)")
    print(f"ok    tag {tag} is the workspace version {version}")


# ---- updater-key --------------------------------------------------------------------------------

def minisign_box(text, what):
    """The binary payload of a minisign key file ("untrusted comment: ...\\n<base64>\\n")."""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2 or not lines[0].startswith("untrusted comment:"):
        raise Refused(f"{what} is not a minisign key")
    return base64.b64decode(lines[1])


def committed_public_key(config_path):
    with open(config_path) as file:
        pubkey = json.load(file)["plugins"]["updater"]["pubkey"]
    raw = minisign_box(base64.b64decode(pubkey).decode(), "plugins.updater.pubkey")
    if len(raw) != 42 or raw[:2] != b"Ed":
        raise Refused("plugins.updater.pubkey is not an Ed25519 minisign public key")
    return raw[2:10], raw[10:]


def scrypt_params(opslimit, memlimit):
    # libsodium's crypto_pwhash_scryptsalsa208sha256 turns (opslimit, memlimit) into (N, r, p) like this;
    # minisign (and so `tauri signer`) derives the key that encrypts the secret key with it.
    opslimit = max(opslimit, 32768)
    r = 8
    if opslimit < memlimit // 32:
        p = 1
        max_n = opslimit // (r * 4)
    else:
        max_n = memlimit // (r * 128)
    n_log2 = next(i for i in range(1, 63) if (1 << i) > max_n // 2)
    if not opslimit < memlimit // 32:
        p = min((opslimit // 4) // (1 << n_log2), 0x3FFFFFFF) // r
    return 1 << n_log2, r, p


def derived_public_key(private_key, password):
    """Decrypts a `tauri signer` private key (base64 of a minisign secret-key file) and returns the
    key id and public key inside it, after checking its checksum (which a wrong password breaks)."""
    text = private_key
    if os.path.isfile(private_key):  # tauri also accepts a path
        with open(private_key) as file:
            text = file.read()
    try:
        raw = minisign_box(base64.b64decode(text.strip()).decode(), "TAURI_SIGNING_PRIVATE_KEY")
    except (ValueError, UnicodeDecodeError):
        raise Refused("TAURI_SIGNING_PRIVATE_KEY is not a base64 minisign secret key") from None
    if len(raw) != 158 or raw[:2] != b"Ed" or raw[4:6] != b"B2":
        raise Refused("TAURI_SIGNING_PRIVATE_KEY is not an Ed25519 minisign secret key")
    kdf, salt = raw[2:4], raw[6:38]
    opslimit, memlimit = struct.unpack("<QQ", raw[38:54])
    sealed = raw[54:158]
    if kdf == b"Sc":
        n, r, p = scrypt_params(opslimit, memlimit)
        stream = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=len(sealed),
                                maxmem=128 * r * (n + p + 2) + (1 << 20))
        opened = bytes(a ^ b for a, b in zip(sealed, stream))
    elif kdf == b"\0\0":
        opened = sealed
    else:
        raise Refused("TAURI_SIGNING_PRIVATE_KEY uses an unknown key derivation")
    key_id, secret, checksum = opened[:8], opened[8:72], opened[72:104]
    if hashlib.blake2b(raw[:2] + key_id + secret, digest_size=32).digest() != checksum:
        raise Refused("TAURI_SIGNING_PRIVATE_KEY does not open with TAURI_SIGNING_PRIVATE_KEY_PASSWORD "
                      "(wrong password or damaged key)")
    # An Ed25519 secret key is seed || public key.
    return key_id, secret[32:]


def key_id_text(key_id):
    return key_id[::-1].hex().upper()  # minisign prints the little-endian id


def updater_key(release, config_path):
    committed_id, committed_key = committed_public_key(config_path)
    if release and key_id_text(committed_id) in DEV_KEY_IDS:
        raise Refused(f"plugins.updater.pubkey is the development key {key_id_text(committed_id)}, whose "
                      "private half was not kept: make the real pair (README, Releasing)")
    private_key = os.environ.get("TAURI_SIGNING_PRIVATE_KEY", "")
    if not private_key:
        raise Refused("TAURI_SIGNING_PRIVATE_KEY is not set")
    key_id, public_key = derived_public_key(private_key, os.environ.get("TAURI_SIGNING_PRIVATE_KEY_PASSWORD", ""))
    if (key_id, public_key) != (committed_id, committed_key):
        raise Refused(f"TAURI_SIGNING_PRIVATE_KEY (key {key_id_text(key_id)}) is not the pair of the committed "
                      f"plugins.updater.pubkey (key {key_id_text(committed_id)}): installed apps would refuse every update")
    print(f"ok    the signing key is the pair of the committed updater key {key_id_text(committed_id)}")


# ---- self-test ----------------------------------------------------------------------------------

def run_self(*args, env=None):
    result = subprocess.run(["bash", SCRIPT, *args], capture_output=True, text=True,
                            env={**os.environ, **(env or {})})
    return result.returncode, result.stdout + result.stderr


def self_test():
    import copy
    import yaml
    failures = []

    def expect(label, ok, output):
        print(f"{'ok  ' if ok else 'FAIL'}  {label}")
        if not ok:
            failures.append(label)
            print("      " + output.strip().replace("\n", "\n      "))

    tmp = tempfile.mkdtemp(prefix="release-check-")

    # The committed workflow passes every rule...
    code, output = run_self("lint", WORKFLOW)
    expect("lint: the committed workflow passes", code == 0, output)

    # ...and each rule fails once on a copy broken for it (and only that rule is reported).
    original = load_workflow(WORKFLOW)

    def unpin(w):
        step = next(s for s in w["jobs"][PUBLISH_JOB]["steps"] if "uses" in s)
        step["uses"] = step["uses"].split("@")[0] + "@v4"

    def top_write(w):
        w["permissions"] = {"contents": "write"}

    def other_job_writes(w):
        name = next(n for n in w["jobs"] if n != PUBLISH_JOB)
        w["jobs"][name]["permissions"] = {"contents": "write"}

    def publish_writes_more(w):
        w["jobs"][PUBLISH_JOB]["permissions"]["actions"] = "write"

    def manual_trigger(w):
        triggers(w)["workflow_dispatch"] = None

    def branch_trigger(w):
        triggers(w)["push"]["branches"] = ["main"]

    def drop_tag_guard(w):
        for job in w["jobs"].values():
            job["steps"] = [s for s in job.get("steps", []) if "tag-version" not in str(s.get("run", ""))]

    def drop_key_check(w):
        for job in w["jobs"].values():
            job["steps"] = [s for s in job.get("steps", []) if "updater-key" not in str(s.get("run", ""))]

    def publish_needs_nothing(w):
        w["jobs"][PUBLISH_JOB].pop("needs", None)

    mutations = [
        ("an action pinned to a tag", unpin, "actions pinned"),
        ("contents: write for the whole workflow", top_write, "read-only token"),
        ("contents: write on a job that does not publish", other_job_writes, "read-only token"),
        ("the publish job may also write actions", publish_writes_more, "read-only token"),
        ("a workflow_dispatch trigger", manual_trigger, "runs on v* tags only"),
        ("a branch push trigger", branch_trigger, "runs on v* tags only"),
        ("no tag/version step", drop_tag_guard, "tag must equal"),
        ("no updater key step", drop_key_check, "updater key pair"),
        ("publish does not wait for the checks", publish_needs_nothing, "tag must equal"),
    ]
    for label, mutate, rule_title in mutations:
        broken = copy.deepcopy(original)
        mutate(broken)
        path = os.path.join(tmp, "broken.yml")
        with open(path, "w") as file:
            yaml.safe_dump(broken, file, sort_keys=False)
        code, output = run_self("lint", path)
        expect(f"lint fails on {label} ({rule_title})",
               code != 0 and any(line.startswith("FAIL") and rule_title in line for line in output.splitlines()),
               output)

    # tag-version against a scratch Cargo.toml.
    cargo = os.path.join(tmp, "Cargo.toml")
    with open(cargo, "w") as file:
        file.write('[workspace]\nmembers = ["a"]\n\n[workspace.package]\nversion = "1.4.2"\nedition = "2021"\n\n'
                   '[workspace.dependencies]\ntokio = { version = "1" }\n')
    for tag, good in [("v1.4.2", True), ("v1.4.3", False), ("main", False), ("v1.4.2-rc1", False)]:
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                tag_version(tag, cargo)
            passed, output = True, ""
        except Refused as refusal:
            passed, output = False, str(refusal)
        expect(f"tag-version {tag} {'passes' if good else 'fails'} for version 1.4.2", passed == good, output)
    # The real Cargo.toml has a version this mode can read.
    code, output = run_self("tag-version", "v" + workspace_version(os.path.join(ROOT, "Cargo.toml")))
    expect("tag-version reads the workspace version of Cargo.toml", code == 0, output)

    # updater-key with throwaway pairs made by the real `tauri signer generate`.
    tauri = os.environ["TAURI_CLI"]

    def generate(name, password):
        path = os.path.join(tmp, name + ".key")
        subprocess.run([tauri, "signer", "generate", "--ci", "-p", password, "-w", path, "-f"],
                       check=True, capture_output=True)
        with open(path) as private, open(path + ".pub") as public:
            return private.read().strip(), public.read().strip()

    private_a, public_a = generate("a", "correct horse")
    _, public_b = generate("b", "battery staple")

    def config_with(pubkey):
        with open(CONFIG) as file:
            config = json.load(file)
        config["plugins"]["updater"]["pubkey"] = pubkey
        path = os.path.join(tmp, "tauri.conf.json")
        with open(path, "w") as file:
            json.dump(config, file)
        return path

    signing = {"TAURI_SIGNING_PRIVATE_KEY": private_a, "TAURI_SIGNING_PRIVATE_KEY_PASSWORD": "correct horse"}
    code, output = run_self("updater-key", "--release", "--config", config_with(public_a), env=signing)
    expect("updater-key passes for a matching pair", code == 0, output)
    code, output = run_self("updater-key", "--release", "--config", config_with(public_b), env=signing)
    expect("updater-key fails for a mismatched pair", code != 0 and "is not the pair" in output, output)
    code, output = run_self("updater-key", "--release", "--config", config_with(public_a),
                            env={**signing, "TAURI_SIGNING_PRIVATE_KEY_PASSWORD": "wrong"})
    expect("updater-key fails for a wrong password", code != 0 and "does not open" in output, output)
    code, output = run_self("updater-key", "--release", "--config", config_with(public_a),
                            env={**signing, "TAURI_SIGNING_PRIVATE_KEY": ""})
    expect("updater-key fails without a private key", code != 0 and "not set" in output, output)
    code, output = run_self("updater-key", "--release", "--config", CONFIG, env=signing)
    expect("updater-key --release refuses the committed development key",
           code != 0 and "development key" in output, output)
    code, output = run_self("updater-key", "--config", CONFIG, env=signing)
    expect("updater-key without --release still fails a pair that does not match the dev key",
           code != 0 and "is not the pair" in output, output)

    # The derived key is the one that really signs: `tauri signer sign` with it, then verify the
    # signature against the public key (when python's cryptography is there to verify Ed25519).
    payload = os.path.join(tmp, "payload")
    with open(payload, "wb") as file:
        file.write(b"unloc desk update")
    subprocess.run([tauri, "signer", "sign", "-k", private_a, "-p", "correct horse", payload],
                   check=True, capture_output=True)
    try:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError:
        print("skip  signature check (python3 has no cryptography module)")
    else:
        with open(payload + ".sig") as file:
            signature_file = base64.b64decode(file.read()).decode().splitlines()
        signature = base64.b64decode(signature_file[1])
        key_id, public_key = derived_public_key(private_a, "correct horse")
        trusted = signature_file[2].split(": ", 1)[1].encode()
        global_signature = base64.b64decode(signature_file[3])
        with open(payload, "rb") as file:
            data = file.read()
        digest = hashlib.blake2b(data).digest() if signature[:2] == b"ED" else data
        try:
            verifier = Ed25519PublicKey.from_public_bytes(public_key)
            verifier.verify(signature[10:], digest)
            verifier.verify(global_signature, signature[10:] + trusted)
            verified = signature[2:10] == key_id
        except Exception as error:  # InvalidSignature
            verified, key_id = False, error
        expect("a file signed by `tauri signer sign` verifies against the derived public key", verified, str(key_id))

    if failures:
        print(f"release-check self-test: {len(failures)} failed")
        return 1
    print("release-check self-test: all passed")
    return 0


def main(argv):
    mode, args = (argv[0] if argv else ""), argv[1:]
    try:
        if mode == "lint":
            return lint(args[0] if args else WORKFLOW)
        if mode == "tag-version" and len(args) == 1:
            tag_version(args[0], os.path.join(ROOT, "Cargo.toml"))
            return 0
        if mode == "updater-key":
            config = args[args.index("--config") + 1] if "--config" in args else CONFIG
            updater_key("--release" in args, config)
            return 0
        if mode == "self-test":
            return self_test()
    except Refused as refusal:
        print(f"::error::release-check {mode}: {refusal}")
        return 1
    print("usage: release-check.sh lint [WORKFLOW] | tag-version TAG | updater-key [--release] [--config FILE]"
          " | self-test", file=sys.stderr)
    return 2


sys.exit(main(sys.argv[1:]))
PY
