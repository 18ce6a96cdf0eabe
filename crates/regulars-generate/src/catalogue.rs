//! The coffee chain's stores and menu.

/// A product on the menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item {
    /// Stock-keeping unit.
    pub sku: &'static str,
    /// Name as printed on the receipt.
    pub name: &'static str,
    /// Category.
    pub category: &'static str,
    /// Price in whole TWD.
    pub price: i64,
}

/// The physical stores: id, name and the region they serve.
pub const STORES: &[(&str, &str, &str)] = &[
    ("S01", "台北信義店", "台北市"),
    ("S02", "台北大安店", "台北市"),
    ("S03", "台北中山店", "台北市"),
    ("S04", "新北板橋店", "新北市"),
    ("S05", "新北新店店", "新北市"),
    ("S06", "桃園中壢店", "桃園市"),
    ("S07", "新竹竹北店", "新竹縣"),
    ("S08", "台中西屯店", "台中市"),
    ("S09", "台中勤美店", "台中市"),
    ("S10", "台南安平店", "台南市"),
    ("S11", "高雄左營店", "高雄市"),
    ("S12", "高雄美術館店", "高雄市"),
];

/// The menu.
pub const MENU: &[Item] = &[
    Item {
        sku: "CF-AME",
        name: "美式咖啡 Americano",
        category: "coffee",
        price: 90,
    },
    Item {
        sku: "CF-LAT",
        name: "拿鐵 Latte",
        category: "coffee",
        price: 120,
    },
    Item {
        sku: "CF-CAP",
        name: "卡布奇諾 Cappuccino",
        category: "coffee",
        price: 120,
    },
    Item {
        sku: "CF-MOC",
        name: "摩卡 Mocha",
        category: "coffee",
        price: 140,
    },
    Item {
        sku: "CF-CBR",
        name: "冷萃咖啡 Cold brew",
        category: "coffee",
        price: 130,
    },
    Item {
        sku: "CF-POUR",
        name: "手沖單品 Pour-over",
        category: "coffee",
        price: 180,
    },
    Item {
        sku: "TE-OOL",
        name: "烏龍拿鐵 Oolong latte",
        category: "tea",
        price: 110,
    },
    Item {
        sku: "TE-EGR",
        name: "伯爵紅茶 Earl Grey",
        category: "tea",
        price: 100,
    },
    Item {
        sku: "TE-MAT",
        name: "抹茶拿鐵 Matcha latte",
        category: "tea",
        price: 140,
    },
    Item {
        sku: "PS-CRO",
        name: "可頌 Croissant",
        category: "pastry",
        price: 75,
    },
    Item {
        sku: "PS-MUF",
        name: "藍莓馬芬 Blueberry muffin",
        category: "pastry",
        price: 65,
    },
    Item {
        sku: "PS-CHE",
        name: "重乳酪蛋糕 Cheesecake",
        category: "pastry",
        price: 120,
    },
    Item {
        sku: "PS-PIN",
        name: "鳳梨酥禮盒 Pineapple cake box",
        category: "pastry",
        price: 380,
    },
    Item {
        sku: "PS-CIN",
        name: "肉桂捲 Cinnamon roll",
        category: "pastry",
        price: 85,
    },
    Item {
        sku: "BN-HOU",
        name: "招牌綜合豆 House blend 250g",
        category: "beans",
        price: 450,
    },
    Item {
        sku: "BN-ETH",
        name: "耶加雪菲 Yirgacheffe 250g",
        category: "beans",
        price: 560,
    },
    Item {
        sku: "BN-DEC",
        name: "低咖啡因 Decaf 250g",
        category: "beans",
        price: 480,
    },
    Item {
        sku: "BN-DRIP",
        name: "掛耳包十入 Drip bags x10",
        category: "beans",
        price: 350,
    },
    Item {
        sku: "MD-TUM",
        name: "保溫隨行杯 Tumbler",
        category: "merchandise",
        price: 690,
    },
    Item {
        sku: "MD-MUG",
        name: "陶瓷馬克杯 Mug",
        category: "merchandise",
        price: 450,
    },
    Item {
        sku: "MD-TOTE",
        name: "帆布托特包 Tote bag",
        category: "merchandise",
        price: 390,
    },
];
