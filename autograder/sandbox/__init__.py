"""The sandbox: where student code runs, and the only things that cross its walls.

* :mod:`.walls` -- the operating system's walls (namespaces through ``bwrap``, an allow-listed file system,
  limits) around the kernel zygote;
* :mod:`.supervisor` -- the grader's side: starts kernels, keeps the clock, reads the channel as hostile;
* :mod:`.runner` -- the kernel's side: the zygote, the probe loop, the frames it writes;
* :mod:`.guard` -- the audit hook inside the kernel (a second layer, not the wall);
* :mod:`.codec` -- plain data across the wall.

Only ``runner``, ``guard``, ``codec`` and this file are visible inside the walls.
"""
