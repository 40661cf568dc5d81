# Records the shape each child receives instead of the shape it produces
def shape_trace(net, example_input):
    trace = []
    X = example_input
    for name, child in net.named_children():
        trace.append((name, tuple(X.shape)))
        try:
            X = child(X)
        except Exception as err:
            raise ValueError(f"child {name!r} failed on an input of shape {tuple(X.shape)}") from err
    return trace
