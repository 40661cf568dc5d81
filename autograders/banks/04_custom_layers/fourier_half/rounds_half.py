# Keeps round(n / 2) coefficients: Python rounds halves to even, so n = 1, 5, 9, ... lose one.
class FourierHalf(nn.Module):
    def forward(self, X):
        return torch.fft.fft(X)[..., : round(X.shape[-1] / 2)]
