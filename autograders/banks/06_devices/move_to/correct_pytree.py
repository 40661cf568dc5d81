# Lets torch's pytree utilities walk the containers (they keep named tuples and key order) and moves each leaf.
from torch.utils._pytree import tree_map


def move_to(obj, device):
    def move(leaf):
        if isinstance(leaf, (torch.Tensor, nn.Module)):
            return leaf.to(device)
        return leaf

    return tree_map(move, obj)
