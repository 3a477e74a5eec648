"""``zoo push`` and ``zoo pull``: share model directories through the Hugging Face Hub.

Torch-free: both commands only move and check files.
"""

from __future__ import annotations

import click

from zoo.cli import complete, get_zoo


@click.command("push")
@click.argument("run_dir", type=click.Path(file_okay=False))
@click.argument("repo_id", metavar="OWNER/NAME")
@click.option("--private", is_flag=True, help="Create the repository as private (when it does not exist yet).")
@click.option("--branch", help="Commit to this branch (created from main when missing).")
@click.option("--message", "-m", help="Commit message.")
@click.option("--overwrite-card", is_flag=True,
              help="Replace a README.md that was written or edited on the Hub (kept by default).")
def push_cmd(run_dir: str, repo_id: str, private: bool, branch: str | None, message: str | None,
             overwrite_card: bool) -> None:
    """Upload a run or model directory to the Hub repository OWNER/NAME.

    Uploads model.safetensors, config.json and the model card (README.md). The token comes from
    HF_TOKEN or `hf auth login`; HF_ENDPOINT selects another Hub.
    """
    from zoo import hub

    result = hub.push(run_dir, repo_id, private=private, branch=branch, message=message,
                      overwrite_card=overwrite_card)
    if result.card_kept:
        click.echo("kept the README.md edited on the Hub (--overwrite-card replaces it)", err=True)
    click.echo(f"commit: {result.commit}")
    click.echo(f"url: {result.url}")
    click.echo(f"commit url: {result.commit_url}")
    click.echo(f"use it: zoo run {result.ref} ...")


@click.command("pull")
@click.argument("ref", shell_complete=complete.refs)
def pull_cmd(ref: str) -> None:
    """Download a model into the Hugging Face cache and print its local directory.

    REF is hf://OWNER/NAME[@REVISION] or a pretrained name from `zoo list pretrained`. Honours
    HF_HOME, HF_HUB_CACHE and HF_HUB_OFFLINE=1 (then only the cache is used).
    """
    from zoo.loading import resolve

    click.echo(str(resolve(ref, get_zoo())))
