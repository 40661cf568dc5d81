# Correct: walks net._modules, keeps autograd on, message with torch.Size formatting
def shape_trace(net, example_input):
    result = []
    x = example_input
    for key, layer in net._modules.items():
        received = x.shape
        try:
            x = layer(x)
        except (RuntimeError, ValueError, TypeError, IndexError) as problem:
            raise ValueError("layer " + key + " cannot handle input " + str(received) + ": " + str(problem)) from problem
        result.append((key, tuple(x.size())))
    return result
