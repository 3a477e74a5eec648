"""The built-in ``zoo`` commands, by name: shared by the CLI (which imports them lazily) and the
plugin loader (which refuses plugin commands that would replace one), so neither imports the other."""

from __future__ import annotations

# name -> "module:attribute"; each module keeps torch imports inside its functions.
BUILTIN_COMMANDS: dict[str, str] = {
    "list": "zoo.cli.listing:list_cmd",
    "info": "zoo.cli.listing:info_cmd",
    "plugins": "zoo.cli.listing:plugins_cmd",
    "train": "zoo.cli.train:train_cmd",
    "run": "zoo.cli.run:run_cmd",
    "inspect": "zoo.cli.inspect:inspect_cmd",
    "eval": "zoo.cli.evaluate:eval_cmd",
    "push": "zoo.cli.hub:push_cmd",
    "pull": "zoo.cli.hub:pull_cmd",
    "compare": "zoo.cli.compare:compare_cmd",
    "plot": "zoo.cli.compare:plot_cmd",
}
