import numpy as np

from regularity.media import contact_sheet, generate_video, outline_masks, read_video


def test_video_reads_back_with_its_frame_count_and_size(tmp_path):
    frames = np.zeros((12, 45, 61), np.uint8)  # odd sizes: the mp4 must still be written
    frames[:, 10:20, 10:20] = 200
    frames[np.arange(12), 30, np.arange(12) + 40] = 255  # a moving dot: no two frames alike
    mp4, gif = generate_video(frames, tmp_path / "v" / "clip", fps=5)
    assert mp4.suffix == ".mp4" and gif.suffix == ".gif"
    back = read_video(mp4)
    assert back.shape[0] == 12 and back.shape[1:3] == (46, 62)
    assert abs(int(back[3, 15, 15, 0]) - 200) < 10 and back[3, 40, 10, 0] < 10
    assert read_video(gif).shape[0] == 12


def test_outline_and_contact_sheet(tmp_path):
    frames = np.zeros((4, 20, 20), np.uint8)
    masks = np.zeros((4, 20, 20), bool)
    masks[2, 5:10, 5:10] = True
    out = outline_masks(frames, masks)
    assert out.shape == (4, 20, 20, 3)
    assert tuple(out[2, 5, 5]) == (0, 255, 0) and not out[2, 7, 7].any() and not out[1].any()
    sheet = contact_sheet(out, tmp_path / "s.png", n=4, columns=2, labels=masks.any(axis=(1, 2)))
    assert read_video(sheet).shape[1:3] == (40, 40)
