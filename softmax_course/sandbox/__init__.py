"""What contains student code: a kernel's sandbox, its launcher, the zygote and the memory cap.

Guarantee: a grading kernel cannot read the course, reach the network, exceed its limits or
outlive its notebook. `launch`, `zygote` and `memory_cap` use the standard library only (whatever
the zygote imports is visible to every kernel), so this file imports nothing.
"""
