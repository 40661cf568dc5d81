# The ValueError gives the shape but does not name the failing child
def shape_trace(net, example_input):
    trace = []
    X = example_input
    for name, child in net.named_children():
        try:
            X = child(X)
        except Exception as err:
            raise ValueError(f"a layer failed on an input of shape {tuple(X.shape)}") from err
        trace.append((name, tuple(X.shape)))
    return trace
