"""Reports the uid and capabilities it runs with, and reads files only root may read."""
import os

EXPECT = r"uid=[1-9]\d* capabilities=0+ read: nothing"
ROOT_ONLY = "ROOT_ONLY_PLACEHOLDER"  # replaced by the test with a file only root may read


def two_layer_grads(X, y, W1, W2):
    with open("/proc/self/status") as status:
        caps = next(line.split()[1] for line in status if line.startswith("CapEff:"))
    found = []
    for path in ("/etc/shadow", ROOT_ONLY, "/root/.bash_history"):
        try:
            with open(path) as handle:
                found.append(handle.read(200))
        except OSError:
            pass
    for pid in os.listdir("/proc"):  # the grader's environment holds its secrets
        try:
            with open(f"/proc/{pid}/environ") as handle:
                text = handle.read()
            if "SECRET" in text or "SEED" in text:
                found.append(text)
        except OSError:
            pass
    raise RuntimeError(f"uid={os.getuid()} capabilities={caps} read: {' | '.join(found) or 'nothing'}")
