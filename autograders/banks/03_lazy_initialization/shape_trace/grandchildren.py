# Walks every nested module (named_modules) instead of the direct children only
def shape_trace(net, example_input):
    trace = []
    X = example_input
    for name, module in net.named_modules():
        if name == "" or len(list(module.children())) > 0:
            continue
        try:
            X = module(X)
        except Exception as err:
            raise ValueError(f"child {name!r} failed on an input of shape {tuple(X.shape)}") from err
        trace.append((name, tuple(X.shape)))
    return trace
