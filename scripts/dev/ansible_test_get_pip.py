"""Stand-in for the get-pip bootstrap script that ansible-test downloads from a host this
network cannot reach: bootstrap pip with the interpreter's own ensurepip, then let that pip
install what ansible-test asked for (from PyPI, which is reachable)."""
import subprocess
import sys

GET_PIP_ONLY_OPTIONS = {"--no-setuptools", "--no-wheel"}

subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
arguments = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_OPTIONS]
subprocess.check_call([sys.executable, "-m", "pip", "install", "-q"] + arguments)
