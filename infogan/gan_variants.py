"""The GAN family of report section 2.4 as a table of variants: what G is fed beside its noise,
which heads D has, and so which losses apply. gan_models.py and infogan_run.py read these
fields and never a variant's name, so a new variant is one entry here plus its test
(ARCHITECTURE.md, "Add a GAN variant"). No TensorFlow here: main.py's --help reads it.
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Variant:
    name: str
    # What G is fed beside z: "none"; "label" (one-hot class of the real batch, so a removed
    # class is never trained); "code" (InfoGAN's categorical code + continuous codes).
    g_input: str
    d_sees_label: bool  # D is also fed the label (CGAN: tiled as image channels, or appended)
    class_head: bool  # D has K class logits, trained on real and fake; G is trained to be classified
    q_head: bool  # D has InfoGAN's Q head; the information loss applies
    about: str

    @property
    def conditioned(self):
        """Its samples can be asked for per label or code (code grid columns, purity)."""
        return self.g_input != "none"

    @property
    def coded(self):
        """Conditioned on InfoGAN's codes, which carry no class: the categorical code's meaning is
        learned (graded by purity) and the continuous codes can be swept."""
        return self.g_input == "code"

    @property
    def labelled(self):
        """Conditioned on the data's labels (a removed class can be asked for afterwards)."""
        return self.g_input == "label"


VARIANTS = {
    v.name: v
    for v in (
        Variant("GAN", "none", False, False, False, "G(z); D(x) -> real/fake"),
        Variant("CGAN", "label", True, False, False, "G(z, y); D(x, y) -> real/fake"),
        Variant("ACGAN", "label", False, True, False, "G(z, y); D(x) -> real/fake + K class logits"),
        Variant("infoGAN", "code", False, False, True, "G(z, c, u); D(x) -> real/fake + Q(c, u | x)"),
    )
}
GAN_TYPES = tuple(VARIANTS)


def lookup(name):
    """The variant called `name` (case-insensitive), or None."""
    return {v.lower(): VARIANTS[v] for v in VARIANTS}.get(str(name).lower())
