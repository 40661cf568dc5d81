# Correct: an OrderedDict in another key order, deep copies, written through an open file object.
import collections
import copy


def save_checkpoint(path, model, optimizer, epoch):
    checkpoint = collections.OrderedDict()
    checkpoint["epoch"] = int(epoch)
    checkpoint["optimizer"] = copy.deepcopy(optimizer.state_dict())
    checkpoint["model"] = copy.deepcopy(model.state_dict())
    with open(path, "wb") as f:
        torch.save(checkpoint, f)
