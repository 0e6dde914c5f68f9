"""Runs the command lines of a systemd unit without systemd, as systemd would
for one instance: CI has no running systemd, so the tests read the installed
unit files and do what the service manager does with the settings they use.

Supported (and nothing else, so a unit that starts to rely on more fails here
instead of being run wrongly): the specifiers %i %I %n %N %p %P %j %%;
Environment= and EnvironmentFile= (with "-"), the files overriding;
StateDirectory=, CacheDirectory= and their modes; Exec*= lines with the "-" prefix,
quoting, "${VAR}" (one word) and "$VAR" as a word of its own (split at
whitespace: zero or more words). See systemd.service(5) and systemd.exec(5).
"""

import os
import re
import shlex
import subprocess
from pathlib import Path

# What systemd gives a system service (no HOME, no USER: there is no User=).
BASE_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "LANG": "C.UTF-8"}


def parse_unit_file(path):
    """{section: [(key, raw value), ...]} in file order."""
    sections = {}
    current = None
    pending = ""
    for raw in Path(path).read_text().splitlines():
        line = pending + raw.strip() if pending else raw.strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        if current is None or "=" not in line:
            raise ValueError("%s: cannot parse %r" % (path, line))
        key, value = line.split("=", 1)
        current.append((key.strip(), value.strip()))
    return sections


def parse_env_file(path):
    """KEY=VALUE lines, # and ; comments, values optionally quoted."""
    env = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise ValueError("%s: not KEY=VALUE: %r" % (path, line))
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        env[key.strip()] = value
    return env


class Unit:
    """One instance of a template unit file: Unit(path, "acme")."""

    def __init__(self, path, instance, rewrite=None):
        self.path = Path(path)
        self.file_name = self.path.name  # zoomfs@.service
        prefix, _, rest = self.file_name.partition("@")
        self.prefix = prefix
        self.suffix = rest.lstrip(".")  # "service"
        self.instance = instance
        self.name = "%s@%s.%s" % (prefix, instance, self.suffix)
        self.sections = parse_unit_file(path)
        # Paths to replace in every expanded argument (a test that cannot use
        # the real mount root); empty means run the lines exactly.
        self.rewrite = dict(rewrite or {})

    # -- settings --------------------------------------------------------

    def specifiers(self, text):
        table = {"i": self.instance, "I": self.instance, "n": self.name,
                 "N": self.name.rsplit(".", 1)[0], "p": self.prefix, "P": self.prefix,
                 "j": self.prefix.rsplit("-", 1)[-1], "%": "%"}

        def one(m):
            if m.group(1) not in table:
                raise ValueError("%s: specifier %%%s is not supported by this runner"
                                 % (self.file_name, m.group(1)))
            return table[m.group(1)]

        return re.sub(r"%(.)", one, text)

    def values(self, section, key):
        """Every value of key in section, specifiers expanded; an empty
        assignment resets the list, as in systemd."""
        out = []
        for k, v in self.sections.get(section, []):
            if k == key:
                out = [] if v == "" else out + [self.specifiers(v)]
        return out

    def value(self, section, key, default=None):
        vals = self.values(section, key)
        return vals[-1] if vals else default

    def environment(self):
        """Environment= first, then EnvironmentFile= (which wins)."""
        env = {}
        for v in self.values("Service", "Environment"):
            for word in shlex.split(v):
                key, sep, val = word.partition("=")
                if not sep:
                    raise ValueError("%s: Environment=%s" % (self.file_name, v))
                env[key] = val
        for v in self.values("Service", "EnvironmentFile"):
            optional = v.startswith("-")
            path = v[1:] if optional else v
            if optional and not os.path.exists(path):
                continue
            env.update(parse_env_file(path))
        return env

    def make_state_directories(self):
        """What systemd does for StateDirectory= and CacheDirectory= before
        ExecStartPre."""
        made = []
        for kind, base in (("State", "/var/lib"), ("Cache", "/var/cache")):
            mode = int(self.value("Service", kind + "DirectoryMode", "0755"), 8)
            for v in self.values("Service", kind + "Directory"):
                for rel in v.split():
                    d = Path(base) / rel
                    d.mkdir(parents=True, exist_ok=True)
                    d.chmod(mode)
                    made.append(d)
        return made

    # -- command lines ---------------------------------------------------

    def commands(self, key, extra_env=None):
        """[(argv, ignore_failure)] of the Exec<key>= lines ($MAINPID and the
        like come in extra_env)."""
        env = self.environment()
        env.update(extra_env or {})
        out = []
        for line in self.values("Service", key):
            ignore = False
            while line and line[0] in "-@:+!":
                if line[0] != "-":
                    raise ValueError("%s: prefix %r is not supported by this runner"
                                     % (self.file_name, line[0]))
                ignore = True
                line = line[1:]
            argv = []
            for word in shlex.split(line):
                m = re.fullmatch(r"\$([A-Za-z_][A-Za-z0-9_]*)", word)
                if m:
                    argv += env.get(m.group(1), "").split()
                    continue
                argv.append(re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}",
                                   lambda mm: env.get(mm.group(1), ""), word))
            for old, new in self.rewrite.items():
                argv = [a.replace(old, new) for a in argv]
            if not argv or not argv[0].startswith("/"):
                raise ValueError("%s: %s=%s: not an absolute path" % (self.file_name, key, line))
            out.append((argv, ignore))
        return out

    def process_env(self, extra=None):
        env = dict(BASE_ENV)
        env.update(self.environment())
        env.update(extra or {})
        return env

    def run(self, key, extra_env=None, timeout=60):
        """Runs every Exec<key>= line in order, as systemd does: a failing
        line without "-" stops there. Returns [CompletedProcess]."""
        done = []
        for argv, ignore in self.commands(key, extra_env):
            cp = subprocess.run(argv, env=self.process_env(extra_env), capture_output=True,
                                text=True, stdin=subprocess.DEVNULL, timeout=timeout)
            done.append(cp)
            if cp.returncode != 0 and not ignore:
                raise AssertionError("%s: %s=%s exited %d\nstdout: %s\nstderr: %s"
                                     % (self.name, key, " ".join(argv), cp.returncode,
                                        cp.stdout[-2000:], cp.stderr[-2000:]))
        return done

    def start(self, extra_env=None, log_path=None):
        """ExecStart= (exactly one, as Type=notify and oneshot-less units
        have) in the background; its stdout and stderr go to log_path."""
        cmds = self.commands("ExecStart")
        assert len(cmds) == 1, cmds
        argv, _ = cmds[0]
        log = open(log_path, "wb") if log_path else subprocess.DEVNULL
        try:
            return subprocess.Popen(argv, env=self.process_env(extra_env), stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT)
        finally:
            if log_path:
                log.close()
