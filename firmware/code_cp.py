"""CircuitPython entry point, copied to the drive as code.py (run after boot.py) by `sprintwatch flash`."""
from swrt import cp

cp.main()
