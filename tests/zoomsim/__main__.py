"""python3 -m zoomsim [options]: run the emulator until SIGTERM or SIGINT."""

from .config import parse
from .server import run


def main(argv=None):
    run(parse(argv))


if __name__ == "__main__":
    main()
