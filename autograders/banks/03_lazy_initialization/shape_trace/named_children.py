# Walks net.named_children(), which lists a layer placed twice only once: a shared layer gives one pair, not one per place
def shape_trace(net, example_input):
    trace = []
    X = example_input
    with torch.no_grad():
        for name, child in net.named_children():
            try:
                Y = child(X)
            except Exception as err:
                raise ValueError(f"child {name!r} ({type(child).__name__}) failed on an input "
                                 f"of shape {tuple(X.shape)}: {err}") from err
            trace.append((name, tuple(Y.shape)))
            X = Y
    return trace
