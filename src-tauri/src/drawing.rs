//! How WebKitGTK draws the page on Linux. Without a GPU, WebKit's default (compositing: the page in
//! layers drawn through OpenGL) runs on Mesa's software OpenGL, llvmpipe, which is slower and larger
//! than WebKit's plain software drawing: measured with 10,000 locks and 100,000 events
//! (docs/benchmarks.md, session 5), compositing cost the web process about 200 MB and
//! made scrolling frames come every 168 ms against 7 ms. So where the machine has no GPU to draw
//! with, compositing is turned off, unless the user set WebKit's switch themselves.

use std::path::Path;

/// WebKitGTK's switch: set (and not "0"), the page is drawn without compositing.
const COMPOSITING_SWITCH: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";

/// Turns compositing off on a machine without a GPU render node. Called first in `run`, before
/// any thread or WebKit exists (the environment is read by WebKit when it starts).
pub fn choose_for_this_machine() {
    if cfg!(target_os = "linux")
        && compositing_off(std::env::var_os(COMPOSITING_SWITCH).is_some(), has_render_node(Path::new("/dev/dri")))
    {
        log::info!("no GPU render node: the page is drawn without compositing");
        std::env::set_var(COMPOSITING_SWITCH, "1");
    }
}

/// Off when nobody chose (the user's own setting wins) and there is no GPU to composite with.
fn compositing_off(user_chose: bool, gpu: bool) -> bool {
    !user_chose && !gpu
}

/// A GPU that can draw offscreen shows up as `/dev/dri/renderD*` (Mesa's software OpenGL has none).
fn has_render_node(dri: &Path) -> bool {
    std::fs::read_dir(dri)
        .map(|entries| entries.flatten().any(|entry| entry.file_name().to_string_lossy().starts_with("renderD")))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compositing_is_turned_off_only_without_a_gpu_and_without_the_users_own_choice() {
        assert!(compositing_off(false, false));
        assert!(!compositing_off(false, true), "a GPU composites");
        assert!(!compositing_off(true, false), "the user's setting stays");
        assert!(!compositing_off(true, true));
    }

    #[test]
    fn a_render_node_in_dri_is_a_gpu_a_card_node_alone_or_no_folder_is_not() {
        let dir = std::env::temp_dir().join(format!("unloc-dri-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert!(!has_render_node(&dir), "empty");
        std::fs::write(dir.join("card0"), "").unwrap();
        assert!(!has_render_node(&dir), "a display card without a render node");
        std::fs::write(dir.join("renderD128"), "").unwrap();
        assert!(has_render_node(&dir));
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(!has_render_node(&dir), "no /dev/dri at all");
    }
}
