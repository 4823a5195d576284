//! How WebKitGTK draws the page on Linux. Without a GPU, WebKit's default (compositing: the page in
//! layers drawn through OpenGL) runs on Mesa's software OpenGL, llvmpipe, which is slower and larger
//! than WebKit's plain software drawing: measured with 10,000 locks and 100,000 events
//! (docs/benchmarks.md, session 5), compositing cost the web process about 200 MB and
//! made scrolling frames come every 168 ms against 7 ms. So where the machine has no GPU this user
//! can draw with, compositing is turned off, unless the user set WebKit's switch themselves.

use std::path::Path;

/// WebKitGTK's switch: set (and not "0"), the page is drawn without compositing.
const COMPOSITING_SWITCH: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";

/// Turns compositing off on a machine without a GPU render node this user can open. Called first
/// in `run`, before any thread or WebKit exists (the environment is read by WebKit when it starts).
pub fn choose_for_this_machine() {
    if cfg!(target_os = "linux")
        && compositing_off(std::env::var_os(COMPOSITING_SWITCH).is_some(), || {
            has_usable_render_node(Path::new("/dev/dri"))
        })
    {
        log::info!("no GPU render node this user can open: the page is drawn without compositing");
        std::env::set_var(COMPOSITING_SWITCH, "1");
    }
}

/// Off when nobody chose (the user's own setting wins, and then no device is looked at) and there
/// is no GPU to composite with.
fn compositing_off(user_chose: bool, gpu: impl FnOnce() -> bool) -> bool {
    !user_chose && !gpu()
}

/// A GPU that can draw offscreen shows up as `/dev/dri/renderD*` (Mesa's software OpenGL has none),
/// and is drawn with only by those who may open it: a user outside its group (`render`) may not,
/// and WebKit then composites through software OpenGL after all.
fn has_usable_render_node(dri: &Path) -> bool {
    render_nodes_in_order(dri).iter().any(|node| opens_for_drawing(node))
}

/// The render nodes by number, the first GPU first: opening a node wakes its GPU, and on a laptop
/// with two the first is usually the built-in one, while the discrete one may sleep (and take a
/// second or two to wake) unless the first cannot be opened. The folder's own order is arbitrary.
fn render_nodes_in_order(dri: &Path) -> Vec<std::path::PathBuf> {
    let mut nodes: Vec<(u32, std::path::PathBuf)> = std::fs::read_dir(dri)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|entry| {
                    let number = entry.file_name().to_string_lossy().strip_prefix("renderD")?.parse().ok()?;
                    Some((number, entry.path()))
                })
                .collect()
        })
        .unwrap_or_default();
    nodes.sort();
    nodes.into_iter().map(|(_, path)| path).collect()
}

/// Opens for reading and writing, as OpenGL opens a render node; closed again at once (dropped).
fn opens_for_drawing(node: &Path) -> bool {
    std::fs::OpenOptions::new().read(true).write(true).open(node).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compositing_is_turned_off_only_without_a_gpu_and_without_the_users_own_choice() {
        assert!(compositing_off(false, || false));
        assert!(!compositing_off(false, || true), "a GPU composites");
        let untouched = || panic!("the GPU was looked for although the user chose");
        assert!(!compositing_off(true, untouched), "the user's setting stays");
        assert!(!compositing_off(true, untouched));
    }

    /// A folder standing in for /dev/dri, removed at the end.
    fn dri(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("unloc-dri-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_render_node_that_opens_is_a_gpu_a_card_node_alone_or_no_folder_is_not() {
        let dir = dri("opens");
        assert!(!has_usable_render_node(&dir), "empty");
        std::fs::write(dir.join("card0"), "").unwrap();
        assert!(!has_usable_render_node(&dir), "a display card without a render node");
        std::fs::write(dir.join("renderD128"), "").unwrap();
        assert!(has_usable_render_node(&dir));
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(!has_usable_render_node(&dir), "no /dev/dri at all");
    }

    #[test]
    fn render_nodes_are_tried_by_number_the_first_gpu_first() {
        let dir = dri("order");
        for name in ["renderD130", "renderD128", "card0", "renderD129"] {
            std::fs::write(dir.join(name), "").unwrap();
        }
        let names: Vec<String> = render_nodes_in_order(&dir)
            .iter()
            .map(|node| node.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["renderD128", "renderD129", "renderD130"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    // The tests run as root, whom file permissions do not stop: the nodes that cannot be opened
    // here are ones nobody can open for writing (a folder, a link to nothing).
    #[cfg(unix)]
    #[test]
    fn a_render_node_this_user_cannot_open_is_no_gpu_unless_another_one_opens() {
        let dir = dri("refused");
        std::fs::create_dir(dir.join("renderD128")).unwrap();
        std::os::unix::fs::symlink(dir.join("gone"), dir.join("renderD129")).unwrap();
        assert!(!has_usable_render_node(&dir), "no render node opens");
        std::fs::write(dir.join("renderD130"), "").unwrap();
        assert!(has_usable_render_node(&dir), "the one that opens is drawn with");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
