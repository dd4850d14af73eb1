"""`python -m bench [name ...]`: run the named benchmarks, or all of them when none is named.

keepalive  the transport: stock `chalice local` vs the shop host, same process
ordering   one hot product, concurrent buyers: the saga vs holding the row lock
           (a throw-away stack: own databases, vhost, keys and service processes)
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from bench import keepalive, ordering


def run_keepalive(args: argparse.Namespace) -> None:
    print("keepalive: GET /ping of a trivial Chalice app, client and server in this process "
          "(requests done in brackets)\n", flush=True)
    print(keepalive.run(args.connections, args.requests, args.cap_seconds))


def run_ordering(args: argparse.Namespace) -> None:
    print(f"ordering: {args.buyers} buyers x 1 unit of a product with {args.stock} in stock, "
          f"{args.concurrency} at a time, per SHOP_ORDER_STRATEGY (ratios against "
          f"{ordering.BASELINE}, same run)\n", flush=True)
    print(ordering.run(args.stock, args.buyers, args.concurrency, args.order_cap_seconds))


BENCHMARKS: dict[str, Callable[[argparse.Namespace], None]] = {
    "keepalive": run_keepalive,
    "ordering": run_ordering,
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    # Not `choices=`: with nargs="*" argparse checks the empty default against them too.
    parser.add_argument("names", nargs="*", metavar="name",
                        help=f"benchmarks to run ({', '.join(BENCHMARKS)}; default: all)")
    transport = parser.add_argument_group("keepalive")
    transport.add_argument("--connections", type=int, default=8,
                           help="concurrent connections in the second scenario")
    transport.add_argument("--requests", type=int, default=2000,
                           help="requests per scenario (shared by the connections)")
    transport.add_argument("--cap-seconds", type=float, default=10.0,
                           help="stop a run after this long even if requests remain")
    orders = parser.add_argument_group("ordering")
    orders.add_argument("--stock", type=int, default=100, help="units of the hot product")
    orders.add_argument("--buyers", type=int, default=300,
                        help="distinct endusers, one order of one unit each")
    orders.add_argument("--concurrency", type=int, default=32, help="orders in flight at once")
    orders.add_argument("--order-cap-seconds", type=float, default=60.0,
                        help="cap on the buying of both strategies together (an even share each)")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)} "
                     f"(choose from {', '.join(BENCHMARKS)})")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    names = args.names or list(BENCHMARKS)
    for index, name in enumerate(names):
        if index:
            print(flush=True)
        BENCHMARKS[name](args)


if __name__ == "__main__":
    main()
