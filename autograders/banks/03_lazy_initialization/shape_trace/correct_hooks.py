# Correct: forward hooks on each distinct child record the outputs in order; the position gives the name (a shared child fires at each place)
def shape_trace(net, example_input):
    names = list(net._modules)
    trace, received = [], {}

    def before(module, args):
        received["shape"] = tuple(args[0].shape)

    def after(module, args, output):
        trace.append((names[len(trace)], tuple(int(s) for s in output.shape)))

    handles = []
    for child in {id(child): child for child in net._modules.values()}.values():
        handles.append(child.register_forward_pre_hook(before))
        handles.append(child.register_forward_hook(after))
    try:
        net(example_input)
    except Exception as err:
        raise ValueError(f"[{names[len(trace)]}] got input {list(received.get('shape', ()))} and failed") from err
    finally:
        for handle in handles:
            handle.remove()
    return trace
