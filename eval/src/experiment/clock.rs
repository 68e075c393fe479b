//! The experiment's stages on the console and in the results: each announced as it starts
//! (`[3/6] main run`), named on every progress bar it draws (with the bar's estimate of the
//! time left), and timed, so that `summary.json` carries where the run's time went.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::lab::feed::Phase;

/// The stages, in order.
pub const STAGES: [&str; 6] = [
    "inputs",
    "arms and controls",
    "main run",
    "nulls",
    "analysis",
    "tuning maps",
];

/// How long one stage took.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StageTime {
    pub stage: String,
    pub seconds: f64,
}

/// Announces and times the stages of one run.
pub struct Clock {
    visible: bool,
    current: Option<(Phase, Instant)>,
    pub times: Vec<StageTime>,
}

impl Clock {
    pub fn new(visible: bool) -> Self {
        Clock {
            visible,
            current: None,
            times: Vec::new(),
        }
    }

    /// Close the stage under way and start `name` (one of [`STAGES`]).
    pub fn start(&mut self, name: &'static str) -> Phase {
        self.stop();
        let index = STAGES.iter().position(|s| *s == name).map_or(0, |i| i + 1);
        let phase = Phase {
            index,
            of: STAGES.len(),
            name,
        };
        if self.visible {
            eprintln!("{phase}");
        }
        self.current = Some((phase, Instant::now()));
        phase
    }

    /// Close the stage under way, if any.
    pub fn stop(&mut self) {
        if let Some((phase, start)) = self.current.take() {
            let seconds = start.elapsed().as_secs_f64();
            if self.visible {
                eprintln!("{phase}: done in {}", human(seconds));
            }
            self.times.push(StageTime {
                stage: phase.name.to_string(),
                seconds,
            });
        }
    }
}

/// `42 s`, `3.5 min`, `1.2 h`.
pub fn human(seconds: f64) -> String {
    if seconds < 90.0 {
        format!("{seconds:.0} s")
    } else if seconds < 5400.0 {
        format!("{:.1} min", seconds / 60.0)
    } else {
        format!("{:.1} h", seconds / 3600.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_are_numbered_in_order_and_timed_once_each() {
        let mut clock = Clock::new(false);
        let p = clock.start("main run");
        assert_eq!((p.index, p.of), (3, 6));
        assert_eq!(p.to_string(), "[3/6] main run");
        clock.start("nulls");
        clock.stop();
        clock.stop();
        let names: Vec<&str> = clock.times.iter().map(|t| t.stage.as_str()).collect();
        assert_eq!(names, ["main run", "nulls"]);
        assert!(clock.times.iter().all(|t| t.seconds >= 0.0));
    }

    #[test]
    fn durations_read_in_the_unit_that_fits() {
        assert_eq!(human(42.0), "42 s");
        assert_eq!(human(210.0), "3.5 min");
        assert_eq!(human(7200.0), "2.0 h");
    }
}
