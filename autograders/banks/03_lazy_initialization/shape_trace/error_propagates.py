# Lets the child's own error propagate instead of raising a ValueError that names the child
def shape_trace(net, example_input):
    trace = []
    X = example_input
    for name, child in net.named_children():
        X = child(X)
        trace.append((name, tuple(X.shape)))
    return trace
