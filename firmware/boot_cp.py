"""CircuitPython boot step, copied to the drive as boot.py by `sprintwatch flash`:
hold the button while the board powers up to keep the drive writable from USB."""
from swrt.cpstorage import boot

boot()
