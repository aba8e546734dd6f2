import numpy as np

from regularity.show.media import contact_sheet, generate_video, outline_masks, read_video


def test_video_reads_back_with_its_frame_count_and_size(tmp_path):
    frames = np.zeros((12, 45, 61), np.uint8)  # odd sizes: the mp4 must still be written
    frames[:, 10:20, 10:20] = 200
    frames[np.arange(12), 30, np.arange(12) + 40] = 255  # a moving dot: no two frames alike
    mp4, gif = generate_video(frames, tmp_path / "v" / "clip", fps=5, gif=True)
    assert mp4.suffix == ".mp4" and gif.suffix == ".gif"
    back = read_video(mp4)
    assert back.shape[0] == 12 and back.shape[1:3] == (46, 62)
    assert abs(int(back[3, 15, 15, 0]) - 200) < 10 and back[3, 40, 10, 0] < 10
    assert read_video(gif).shape[0] == 6  # every 2nd frame


def walkway_like_clip(n: int = 120, h: int = 120, w: int = 180) -> np.ndarray:
    """Grey noisy frames (sensor noise changes every pixel) with a moving red dot and green box."""
    rng = np.random.default_rng(0)
    scene = rng.integers(60, 200, (h, w)).astype(float)
    frames = np.clip(scene + rng.normal(0, 2.5, (n, h, w)), 0, 255).astype(np.uint8)
    frames = np.repeat(frames[..., None], 3, axis=-1)
    for t in range(n):
        x = 10 + t % (w - 30)
        frames[t, 50:70, x : x + 1] = (0, 255, 0)
        frames[t, 58:61, x + 5 : x + 8] = (255, 0, 0)
    return frames


def test_video_is_mp4_only_by_default_and_a_gif_when_asked_is_small(tmp_path):
    frames = walkway_like_clip()
    assert generate_video(frames, tmp_path / "a" / "clip") == [tmp_path / "a" / "clip.mp4"]
    assert not (tmp_path / "a" / "clip.gif").exists()
    mp4, gif = generate_video(frames, tmp_path / "b" / "clip", gif=True)
    # Measured: 11.9x the mp4 here (157x for the former full-rate, 320-wide, 256-colour gif).
    assert gif.stat().st_size < 15 * mp4.stat().st_size
    back = read_video(gif)
    assert back.shape == (60, 120, 180, 3)
    assert (back[..., 0] > 200).sum() > 0 and (back[..., 1] > 200).sum() > 0  # marks kept


def test_outline_and_contact_sheet(tmp_path):
    frames = np.zeros((4, 20, 20), np.uint8)
    masks = np.zeros((4, 20, 20), bool)
    masks[2, 5:10, 5:10] = True
    out = outline_masks(frames, masks)
    assert out.shape == (4, 20, 20, 3)
    assert tuple(out[2, 5, 5]) == (0, 255, 0) and not out[2, 7, 7].any() and not out[1].any()
    sheet = contact_sheet(out, tmp_path / "s.png", n=4, columns=2, labels=masks.any(axis=(1, 2)))
    assert read_video(sheet).shape[1:3] == (40, 40)
