//! Faults in the real app: each injected fault gets its own notice while the list stays, a lock no
//! longer granted leaves the list, and the lock-out and Retry-After stop all sending.

use std::time::Duration;

use unloc_sim::expected::expected_error;
use unloc_sim::{fixtures, FaultRule, SimConfig};

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fault_gets_its_own_message_and_the_list_stays() -> TestResult {
    scenario("faults", SimConfig { lockout_after: 0, hostile_lock: false, locks: 15, ..SimConfig::default() })
        .run(async |client, scenario| {
            let sim = &scenario.sim;
            sign_in(client, sim.token()).await?;
            wait_lock_rows(client).await?;
            let count_before = text_of(client, "#locks-count").await?;
            // What the client reports for each fault comes from the shared table; the notice must say it.
            let specs = [
                "status:500",
                "status:502",
                "status:503",
                "status:400",
                "malformed",
                "html",
                "empty",
                "reset",
                "drop",
            ];
            let mut table = Vec::new();
            for spec in specs {
                let words = notice_words(expected_error(spec))?;
                sim.add_fault(FaultRule::parse(&format!("locks={spec}"))?);
                click(client, "#locks-refresh").await?;
                let banner = wait_for_js(
                    client,
                    &format!("the notice for {spec}"),
                    &format!("const b = document.querySelector('#status-banner')?.textContent ?? ''; return b.includes({words:?}) && b"),
                )
                .await?;
                ensure_eq!(text_of(client, "#locks-count").await?, count_before, "the list must stay under {spec}");
                ensure!(!banner.as_str().unwrap_or_default().contains(sim.token()), "the token in a notice");
                table.push(format!("{spec:<28} {}", banner.as_str().unwrap_or_default().chars().take(90).collect::<String>()));
                sim.clear_faults();
                click(client, "#locks-refresh").await?;
                wait_for_js(client, "the notice to clear", &format!("return !(document.querySelector('#status-banner')?.textContent ?? '').includes({words:?})")).await?;
            }

            // Locks that cannot be read are left out and counted, not an error for the whole list.
            sim.add_fault(FaultRule::parse("locks=wrong-types")?);
            click(client, "#locks-refresh").await?;
            let notice = wait_for_js(client, "the unreadable-locks notice", "const n = document.querySelector('#locks-view .skipped-notice')?.textContent ?? ''; return n.includes('could not be read') && n").await?;
            table.push(format!("{:<28} {}", "wrong-types", notice.as_str().unwrap_or_default()));
            sim.clear_faults();
            click(client, "#locks-refresh").await?;
            wait_for_js(client, "the notice to clear", "return !(document.querySelector('#locks-view .skipped-notice')?.textContent ?? '')").await?;
            wait_lock_rows(client).await?;

            // A lock that is no longer granted (404): off the list, with a notice.
            sim.add_fault(FaultRule::parse("events=status:404")?);
            search_locks(client, fixtures::HJEMME_NAME).await?;
            click(client, &format!("tr[data-lock-id=\"{}\"] .lock-name", fixtures::HJEMME_LOCK_ID)).await?;
            wait_for_js(client, "the lock-gone notice", "return (document.querySelector('#status-banner')?.textContent ?? '').includes('no longer available')").await?;
            wait_visible(client, "#locks-view").await?;
            wait_for_js(client, "the lock to leave the list", &format!(
                "return !document.querySelector('tr[data-lock-id=\"{}\"]')", fixtures::HJEMME_LOCK_ID
            )).await?;
            screenshot(client, "view-lock-gone").await?;
            table.push(format!("{:<28} lock taken off the list with a notice", "events=status:404"));
            sim.clear_faults();
            search_locks(client, "").await?;
            // One lock fewer now; wait for the cleared search to show them all again.
            wait_for_js(
                client,
                "the whole list again",
                "const t = document.querySelector('#locks-count')?.textContent ?? ''; const m = t.match(/(\\d+) of (\\d+)/); return m && m[1] === m[2] && t",
            )
            .await?;

            // Unloc's lock-out: said plainly, and nothing more is sent until the user acts.
            sim.add_fault(FaultRule::parse("*=status:403")?);
            click(client, "#locks-refresh").await?;
            wait_for_js(client, "the lock-out notice", "return (document.querySelector('#status-banner')?.textContent ?? '').includes('temporarily blocked')").await?;
            let retry_buttons = client.execute("return document.querySelectorAll('#status-banner button').length", vec![]).await?;
            let sent = sim.requests().len();
            tokio::time::sleep(Duration::from_secs(3)).await; // a window in which nothing may be sent
            ensure_eq!(sim.requests().len(), sent, "requests were sent during the lock-out without the user acting");
            table.push(format!("{:<28} lock-out notice, {} banner buttons, no requests for 3 s", "status:403", retry_buttons));
            screenshot(client, "view-lockout").await?;
            sim.clear_faults();
            // The lock-out quiets the client until the user signs in again.
            click(client, "#signout").await?;
            sign_in(client, sim.token()).await?;
            wait_lock_rows(client).await?;
            let count_before = wait_for_js(
                client,
                "the list after signing in again",
                "const t = document.querySelector('#locks-count')?.textContent ?? ''; const m = t.match(/(\\d+) of (\\d+)/); return m && m[1] === m[2] && t",
            )
            .await?
            .as_str()
            .unwrap_or_default()
            .to_owned();

            // Too many requests, come back in two minutes: until then nothing is sent, even on Refresh.
            sim.add_fault(FaultRule::parse("locks=status:429:retry-after=120*1")?);
            click(client, "#locks-refresh").await?;
            wait_for_js(client, "the rate-limit notice, with when the pause ends", "const b = document.querySelector('#status-banner')?.textContent ?? ''; return b.includes('Wait 2 minutes') && b.includes('sends nothing until')").await?;
            let sent = sim.requests().len();
            click(client, "#locks-refresh").await?;
            wait_for_js(client, "the refresh to end", "return document.querySelector('#locks-refresh')?.getAttribute('aria-disabled') !== 'true'").await?;
            ensure_eq!(sim.requests().len(), sent, "a request was sent before Retry-After expired");
            ensure_eq!(text_of(client, "#locks-count").await?, count_before, "the list must stay while rate limited");
            table.push(format!("{:<28} wait notice; a second Refresh sent nothing", "status:429:retry-after=120"));
            assert_nothing_executed(client).await?;
            #[allow(clippy::print_stderr)] // the table is the report of this test
            {
                eprintln!("faults in the app:\n  {}", table.join("\n  "));
            }
            Ok(())
        })
        .await
}

/// Words the English notice for an error kind (as the shared fault table names it) must contain.
fn notice_words(kind: &str) -> TestResult<&'static str> {
    Ok(match kind {
        "server" => "Unloc had a problem",
        "maintenance" => "maintenance",
        "internal" => "went wrong",
        "invalidResponse" => "unexpected",
        "offline" => "Offline",
        other => return Err(format!("no notice words for {other}").into()),
    })
}
