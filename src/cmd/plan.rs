//! `ferry plan`: what syncing the repository would change.

use ferry::cli::{render_plan, OutputFormat, PlanArgs};
use ferry::reconcile::{self, PlanFrom};

use super::{setup, EXIT_ERROR};

/// Prints the plan; exits 0 (no changes), 1 (changes) or 2 (invalid or refused).
pub async fn run(args: PlanArgs) -> anyhow::Result<u8> {
    let (engine, app) = setup(
        &args.app,
        &args.cluster,
        args.prune.then_some(true),
        &args.safety,
    )
    .await?;
    let plan = reconcile::plan(&engine, &app, PlanFrom::Head).await?;
    match args.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&plan)?),
        OutputFormat::Text => {
            print!("{}", render_plan(&plan, args.diff, args.color.enabled()));
        }
    }
    if plan.invalid().next().is_some() || plan.refusal.is_some() {
        return Ok(EXIT_ERROR);
    }
    Ok(u8::from(plan.has_changes()))
}
