"""`artengine serve MODEL.onnx|GALLERY_DIR`: the live explorer on 127.0.0.1 (onnxruntime, no torch)."""

from __future__ import annotations

import click


@click.command("serve")
@click.argument("target", type=click.Path(exists=True))
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0 picks a free one).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind; anything but loopback lets other machines use your CPU and models.")
@click.option("--provider", default="cpu", show_default=True, type=click.Choice(["cpu", "cuda", "auto"]),
              help="onnxruntime execution provider.")
@click.option("--verbose", is_flag=True, help="Log every request.")
def serve_command(target: str, port: int, host: str, provider: str, verbose: bool) -> None:
    """Explore a model live in the browser (127.0.0.1, onnxruntime, no torch).

    TARGET is an exported .onnx model, or a gallery folder holding models: new samples, a seed
    box, sliders for the model's extra inputs, walks between two samples, PNG downloads; photo
    upload for style models. Ctrl-C stops it."""
    from ..serve import make_server

    server = make_server(target, host=host, port=port, provider=provider, verbose=verbose,
                         warn=lambda text: click.echo(text, err=True))
    bound_host, bound_port = server.server_address[:2]
    shown = f"[{bound_host}]" if ":" in str(bound_host) else bound_host
    names = ", ".join(m.label for m in server.explorer.models)
    click.echo(f"serving {names} at http://{shown}:{bound_port}/ (Ctrl-C stops)")
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"warning: listening on {host}: other machines on the network can use this explorer", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("stopped", err=True)
    finally:
        server.server_close()


COMMANDS = (serve_command,)
