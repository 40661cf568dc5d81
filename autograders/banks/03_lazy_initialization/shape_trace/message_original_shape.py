# The ValueError names the child but gives the shape of the network's input, not of the child's input
def shape_trace(net, example_input):
    trace = []
    X = example_input
    for name, child in net.named_children():
        try:
            X = child(X)
        except Exception as err:
            raise ValueError(f"child {name!r} failed (network input of shape {tuple(example_input.shape)})") from err
        trace.append((name, tuple(X.shape)))
    return trace
