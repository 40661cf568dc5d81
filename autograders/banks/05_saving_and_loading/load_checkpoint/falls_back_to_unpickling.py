# Tries weights_only=True and, when it is refused, "falls back" to weights_only=False: the file's code runs after all.
import pickle


def load_checkpoint(path, model, optimizer):
    try:
        checkpoint = torch.load(path, weights_only=True)
    except pickle.UnpicklingError:
        checkpoint = torch.load(path, weights_only=False)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    return checkpoint["epoch"]
