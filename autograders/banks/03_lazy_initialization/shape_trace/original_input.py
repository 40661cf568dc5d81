# Calls every child on the original input instead of the previous child's output
def shape_trace(net, example_input):
    trace = []
    for name, child in net.named_children():
        try:
            Y = child(example_input)
        except Exception as err:
            raise ValueError(f"child {name!r} failed on an input of shape {tuple(example_input.shape)}") from err
        trace.append((name, tuple(Y.shape)))
    return trace
