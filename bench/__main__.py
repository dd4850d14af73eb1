"""`python -m bench`: the transport benchmark, stock `chalice local` vs the shop host."""

from __future__ import annotations

import argparse

from bench import keepalive


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--connections", type=int, default=8,
                        help="concurrent connections in the second scenario")
    parser.add_argument("--requests", type=int, default=2000,
                        help="requests per scenario (shared by the connections)")
    parser.add_argument("--cap-seconds", type=float, default=10.0,
                        help="stop a run after this long even if requests remain")
    args = parser.parse_args()
    print("GET /ping of a trivial Chalice app, client and server in this process "
          "(requests done in brackets)\n", flush=True)
    print(keepalive.run(args.connections, args.requests, args.cap_seconds))


if __name__ == "__main__":
    main()
