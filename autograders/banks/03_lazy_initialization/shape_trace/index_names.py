# Names the children by their position (str(i)) instead of their names in net
def shape_trace(net, example_input):
    trace = []
    X = example_input
    for i, child in enumerate(net):
        try:
            X = child(X)
        except Exception as err:
            raise ValueError(f"child {i} ({type(child).__name__}) failed on an input of shape {tuple(X.shape)}") from err
        trace.append((str(i), tuple(X.shape)))
    return trace
