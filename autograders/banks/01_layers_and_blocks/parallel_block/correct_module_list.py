# An nn.ModuleList attribute holds the blocks; len() check for the empty case
class ParallelBlock(nn.Module):
    def __init__(self, *blocks, dim=-1):
        super().__init__()
        if len(blocks) == 0:
            raise ValueError("ParallelBlock() needs at least one block")
        self.branches = nn.ModuleList(blocks)
        self.dim = dim

    def forward(self, X):
        outputs = []
        for branch in self.branches:
            outputs.append(branch(X))
        return torch.cat(outputs, self.dim)
