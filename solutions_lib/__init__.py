"""Reference implementations of every exercise, one module per topic.

Each public function has the name and signature its notebook asks for, works on CPU and CUDA tensors in
float32 and float64, and names in its docstring the chapter that introduced it. Later chapters import the
pieces of earlier ones from here. The hidden tests use these functions as oracles where torch has no
built-in.
"""
