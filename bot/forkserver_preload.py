"""The forkserver's preload (multiprocessing imports it there at start): from then on the
forkserver dies with the bot. Imported nowhere else: the bot itself must not die with
whatever started it."""

from bot.lifeline import die_with_parent

die_with_parent()
