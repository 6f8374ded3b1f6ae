use onex_runtime::{OnexError, compute_node};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
pub struct ModelCelsius {
    celsius: f64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ModelFahrenheit {
    fahrenheit: f64,
}

#[compute_node(contract = "../../contracts/compute_single.yaml")]
pub struct TemperatureConverter;

// Compute handlers are synchronous: a compute node is a pure function of its input.
impl TemperatureConverterHandler for TemperatureConverter {
    async fn handle(&self, input: ModelCelsius) -> Result<ModelFahrenheit, OnexError> {
        Ok(ModelFahrenheit {
            fahrenheit: input.celsius * 9.0 / 5.0 + 32.0,
        })
    }
}

fn main() {}
