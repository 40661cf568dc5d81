# Uses the children's class names instead of their names in net
def shape_trace(net, example_input):
    trace = []
    X = example_input
    for child in net:
        kind = type(child).__name__
        try:
            X = child(X)
        except Exception as err:
            raise ValueError(f"{kind} failed on an input of shape {tuple(X.shape)}") from err
        trace.append((kind, tuple(X.shape)))
    return trace
