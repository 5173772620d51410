"""WikiArt-style folders: lenient genre matching, the scan's handling of odd files (counted,
converted or skipped), its cache, the held-out split and the streaming pipeline."""

import os

import numpy as np
import pytest

from common.classes import UsageError
from common.folder_data import match_classes, normalise, scan_folders, split_heldout, stream_dataset
from tests.art_fixtures import GENRE_DIRS, write_art_folder


def test_genre_names_match_leniently_and_whole(tmp_path):
    write_art_folder(str(tmp_path), per_genre=1, odd=False)
    found = match_classes(str(tmp_path), ["Cubism", "early-renaissance", "POP ART"])
    assert [p.split("/")[-1] for p in found.values()] == ["Cubism", "Early_Renaissance", "pop-art"]
    with pytest.raises(UsageError, match="no directory for 'realism'"):
        match_classes(str(tmp_path), ["realism"])  # New_Realism is another genre
    assert normalise("Ukiyo_e") == normalise("ukiyo-e")
    with pytest.raises(UsageError, match="is not a directory"):
        match_classes(str(tmp_path / "none"), ["cubism"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="no class sub-directories"):
        match_classes(str(tmp_path / "empty"), ["cubism"])


def test_scan_counts_converts_and_skips_odd_files(tmp_path):
    odd = write_art_folder(str(tmp_path / "art"), per_genre=4)
    dirs = match_classes(str(tmp_path / "art"), list(GENRE_DIRS))
    logged = []
    scan = scan_folders(dirs, 16, str(tmp_path / "cache"), log=logged.append)
    for key, count in odd.items():
        assert scan.counts[key] == count, key
    assert (
        scan.counts["files_seen"] == 12 + 6 and scan.counts["used"] == 12 + 4
    )  # 4 odd files kept, 2 skipped
    assert scan.labels.count(0) == 8 and scan.labels.count(1) == 4
    assert any("skip corrupt: 1" in line for line in logged)
    images = [b for _, b in zip(range(3), stream_dataset(scan.paths, scan.labels, 16, 8, seed=0))]
    x, y = images[0]
    assert (
        x.shape == (8, 16, 16, 3)
        and y.shape == (8,)
        and 0.0 <= float(x.numpy().min())
        and float(x.numpy().max()) <= 1.0
    )
    # Converted files decode like any other, and each genre keeps its colour (cubism red, pop art blue).
    x = np.concatenate([b[0].numpy() for b in images])
    y = np.concatenate([b[1].numpy() for b in images])
    cubism, pop = x[y == 0].mean(axis=(0, 1, 2)), x[y == 2].mean(axis=(0, 1, 2))
    assert cubism[0] > cubism[2] and pop[2] > pop[0]
    again = scan_folders(dirs, 16, str(tmp_path / "cache"), log=logged.append)
    assert again.paths == scan.paths and "cached" in logged[-1]


def test_streaming_refuses_a_batch_larger_than_the_data(tmp_path):
    with pytest.raises(UsageError, match="--batch_size 10 is larger than the 4 training images"):
        stream_dataset(["a"] * 4, [0] * 4, 16, 10, 0)


def test_heldout_split_keeps_each_class_apart():
    labels = np.repeat([0, 1, 2], [10, 20, 1])
    train, heldout = split_heldout(labels, 0.1, seed=0)
    assert len(np.intersect1d(train, heldout)) == 0 and len(train) + len(heldout) == 31
    assert np.bincount(labels[heldout], minlength=3).tolist() == [1, 2, 0]


ARTGAN_STYLES = ["Cubism", "Early_Renaissance", "Fauvism", "Pointillism", "Pop_Art", "Realism", "Ukiyo_e"]


def test_wikiart_as_artgan_distributes_it_with_its_csv_split(tmp_path):
    """ArtGAN's layout: wikiart/<Style>/*.jpg beside wikiart_csv/style_{train,val}.csv; --genres 7
    finds Ahn et al.'s seven among the styles, and the held-out images are the ones style_val.csv
    lists."""
    from PIL import Image

    from can.can_run import ArtData
    from can.spec import CANRunSpec

    rng = np.random.default_rng(0)
    val = []
    for style in ARTGAN_STYLES + ["Impressionism", "New_Realism"]:
        os.makedirs(tmp_path / "wikiart" / style)
        for i in range(4):
            name = f"{style}/artist_painting-{i}.jpg"
            pixels = rng.integers(0, 255, (20, 24, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / "wikiart" / name, quality=90)
            if i == 3:
                val.append(name)
    os.makedirs(tmp_path / "wikiart_csv")
    (tmp_path / "wikiart_csv" / "style_val.csv").write_text("".join(f"{n},{k}\n" for k, n in enumerate(val)))
    logs = []
    spec = CANRunSpec.make(
        out_dir=str(tmp_path / "run"), data_dir=str(tmp_path), image_size=16, log=logs.append
    )
    data = ArtData(spec)
    assert data.num_train == 7 * 3 and len(data.heldout_paths) == 7
    assert all(p.endswith("painting-3.jpg") for p in data.heldout_paths)
    assert "style_val.csv" in data.source and "wikiart" in data.source
    assert sorted(set(data.heldout_labels.tolist())) == list(range(7))


def _bmp16(path, width, height, rgb):
    """A 16-bit (RGB 5-6-5, BI_BITFIELDS) BMP: a variant Pillow reads and TensorFlow does not."""
    import struct

    r, g, b = rgb
    pixel = struct.pack("<H", ((r >> 3) << 11) | ((g >> 2) << 5) | (b >> 3))
    row = pixel * width + b"\0" * ((4 - (2 * width) % 4) % 4)
    body = row * height
    header_size = 14 + 40 + 12
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 16, 3, len(body), 2835, 2835, 0, 0)
    masks = struct.pack("<III", 0xF800, 0x07E0, 0x001F)
    with open(path, "wb") as f:
        f.write(
            b"BM" + struct.pack("<IHHI", header_size + len(body), 0, 0, header_size) + info + masks + body
        )


def test_bmp_16_bit_and_oversized_files_are_converted_faithfully(tmp_path, monkeypatch):
    from PIL import Image

    from common import folder_data

    art = tmp_path / "art" / "cubism"
    art.mkdir(parents=True)
    _bmp16(str(art / "a.bmp"), 20, 20, (248, 0, 0))
    Image.new("RGB", (20, 20), (0, 0, 200)).save(art / "b.bmp")
    grey16 = np.full((20, 20), 32768, np.uint16)  # mid grey at 16 bits: clipped, it would be white
    Image.fromarray(grey16).save(art / "c.png")
    Image.new("RGB", (60, 50), (0, 150, 0)).save(art / "d.png")
    monkeypatch.setattr(folder_data, "MAX_STREAM_PIXELS", 2000)  # d.png counts as oversized
    scan = scan_folders({"cubism": str(art)}, 16, str(tmp_path / "cache"), log=lambda _: None)
    assert scan.counts["convert_bmp"] == 2 and scan.counts["convert_high_depth"] == 1
    assert scan.counts["convert_oversized"] == 1 and scan.counts["used"] == 4
    x = folder_data.load_arrays(scan.paths, 16)
    means = {os.path.basename(o): x[i].mean(axis=(0, 1)) for i, o in enumerate(scan.origins)}
    assert means["a.bmp"][0] > 0.9 and means["a.bmp"][1:].max() < 0.05
    assert means["b.bmp"][2] > 0.7
    assert np.allclose(means["c.png"], 0.5, atol=0.01)
    assert means["d.png"][1] > 0.5 and Image.open(scan.paths[3]).size == (16, 16)


def test_two_training_sizes_keep_their_own_converted_copies(tmp_path):
    from PIL import Image

    art = tmp_path / "art" / "cubism"
    art.mkdir(parents=True)
    Image.new("CMYK", (40, 40), (0, 255, 255, 0)).save(art / "a.jpg")
    cache = str(tmp_path / "cache")
    small = scan_folders({"cubism": str(art)}, 16, cache, log=lambda _: None)
    large = scan_folders({"cubism": str(art)}, 32, cache, log=lambda _: None)
    assert Image.open(small.paths[0]).size == (16, 16) and Image.open(large.paths[0]).size == (32, 32)
    again = scan_folders({"cubism": str(art)}, 16, cache, log=lambda _: None)
    assert Image.open(again.paths[0]).size == (16, 16)


@pytest.mark.parametrize("damage", [b"", b'{"paths": ["a"', b'{"paths": 1}', b"[]"])
def test_a_damaged_scan_cache_is_scanned_again(tmp_path, damage):
    write_art_folder(str(tmp_path / "art"), per_genre=2, odd=False)
    dirs = match_classes(str(tmp_path / "art"), list(GENRE_DIRS))
    cache = tmp_path / "cache"
    first = scan_folders(dirs, 16, str(cache), log=lambda _: None)
    [scan_file] = cache.glob("scan-*.json")
    scan_file.write_bytes(damage)
    logged = []
    again = scan_folders(dirs, 16, str(cache), log=logged.append)
    assert again.paths == first.paths and again.counts == first.counts
    assert any("damaged" in line for line in logged) and any("scanning" in line for line in logged)


def test_high_depth_images_become_8_bit_by_their_range():
    from PIL import Image

    from common.image_files import to_8bit

    ramp16 = np.linspace(0, 65535, 256).astype(np.uint16).reshape(16, 16)
    assert (
        np.abs(np.asarray(to_8bit(Image.fromarray(ramp16), "L")).astype(int).ravel() - np.arange(256)).max()
        <= 1
    )
    floats = Image.fromarray(np.full((4, 4), 0.25, np.float32))
    assert np.asarray(to_8bit(floats, "L")).max() == 64
    clear = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    assert np.asarray(to_8bit(clear, "L")).min() == 255  # transparency on white, not black
