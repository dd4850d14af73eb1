"""Any Chalice project on today's shop host, for as long as `shop serve DIR` does not exist.

`python -m bench.serve_today DIR --port N`: the same server and handler classes
`python -m shop_local.runtime.host` serves a service with, for a project the host
does not know by name (the trivial app the transport is measured with). Once the
`shop serve` command exists, `make bench` uses it instead and this is unused.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
from pathlib import Path
from types import FrameType

from chalice.cli.factory import CLIFactory

from shop_local.runtime.host import build_server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project_dir", type=Path)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--stage", default="dev")
    args = parser.parse_args(argv)
    project_dir = args.project_dir.resolve()
    os.chdir(project_dir)
    factory = CLIFactory(project_dir=str(project_dir), environ=os.environ)
    config = factory.create_config_obj(chalice_stage_name=args.stage)
    app = factory.load_chalice_app(config.environment_variables)
    server = build_server(app, config, "127.0.0.1", args.port)

    def stop(_signum: int, _frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    server.serve_forever()


if __name__ == "__main__":
    main()
