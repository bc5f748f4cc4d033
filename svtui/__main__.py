from svtui.cli import run

run()
