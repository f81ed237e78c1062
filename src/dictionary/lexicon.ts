/**
 * A built-in bilingual lexicon of common business terms, used to draft Chinese and English synonyms
 * for tables, columns and values. Each entry lists English words or phrases (lower case, the usual one
 * first) and the Chinese terms for them (the usual one first). An English term belongs to one entry
 * only; a Chinese term may appear in several (用户 is both a customer and a user).
 */

export interface LexiconEntry {
  english: readonly string[];
  chinese: readonly string[];
}

/** `entry('customer|client', '客户|用户')`: the lists are written with `|` to keep the table readable. */
function entry(english: string, chinese: string): LexiconEntry {
  return { english: english.split('|'), chinese: chinese.split('|') };
}

const peopleAndAccounts = [
  entry('customer|customers', '客户|用户|顾客'),
  entry('user|users', '用户'),
  entry('client|clients', '客户|委托人'),
  entry('account|accounts', '账户|账号'),
  entry('member|members|membership', '会员|成员'),
  entry('vip', 'VIP|贵宾|大客户'),
  entry('level|tier|grade', '等级|级别'),
  entry('name', '名称|姓名'),
  entry('first name', '名'),
  entry('last name|surname', '姓'),
  entry('full name', '全名|姓名'),
  entry('gender|sex', '性别'),
  entry('male|man|men', '男|男性'),
  entry('female|woman|women', '女|女性'),
  entry('age', '年龄'),
  entry('birthday|birth date|date of birth|dob', '生日|出生日期'),
  entry('senior|elderly', '老年|老年人'),
  entry('senior citizen', '老年人|老年用户'),
  entry('partner|spouse', '伴侣|配偶'),
  entry('dependents|dependent', '家属|受抚养人'),
  entry('family', '家庭'),
  entry('household', '家庭|住户'),
  entry('demographics|demographic', '基本信息|人口统计'),
  entry('profile', '档案|画像'),
  entry('occupation|job', '职业'),
  entry('education', '学历|教育程度'),
  entry('income', '收入'),
  entry('marital status', '婚姻状况'),
  entry('contact', '联系人|联系方式'),
  entry('owner', '负责人|所有者'),
  entry('manager', '经理|负责人'),
  entry('employee|employees|staff', '员工|职员'),
  entry('salesperson|sales rep', '销售员|业务员'),
  entry('department|dept', '部门'),
  entry('team', '团队|小组'),
  entry('salary|wage', '薪资|工资'),
  entry('position|title', '职位|岗位'),
  entry('hire date', '入职日期'),
];

const identifiersAndContact = [
  entry('id|identifier', 'ID|编号'),
  entry('key', '键|主键'),
  entry('code', '代码|编码'),
  entry('number|num|nbr', '编号|号码'),
  entry('customer id|customer number|client id', '客户ID|客户编号|用户ID'),
  entry('user id', '用户ID|用户编号'),
  entry('order id|order number|order no', '订单ID|订单号'),
  entry('product id', '产品ID|商品编号'),
  entry('email|e-mail|mail', '邮箱|电子邮件'),
  entry('phone|telephone|tel', '电话'),
  entry('mobile|cell phone|cellphone', '手机|手机号'),
  entry('phone number', '电话号码|手机号'),
  entry('address', '地址'),
  entry('zip|postcode|postal code|zip code', '邮编|邮政编码'),
  entry('id card|id number|identity card', '身份证|身份证号'),
  entry('passport', '护照'),
  entry('ssn|social security number', '社保号|社会安全号'),
  entry('password|passwd', '密码'),
  entry('secret', '密钥'),
  entry('token', '令牌'),
  entry('ip', 'IP地址'),
];

const money = [
  entry('revenue', '收入|营收|营业收入'),
  entry('sales', '销售额|销量'),
  entry('amount', '金额'),
  entry('price|unit price', '价格|单价'),
  entry('cost', '成本|费用'),
  entry('charge|charges', '费用|收费'),
  entry('monthly charges|monthly charge|monthly fee', '月费|每月费用|月租'),
  entry('total charges|total charge', '总费用|累计费用'),
  entry('fee|fees', '费用|手续费'),
  entry('bill|bills|billing', '账单|计费'),
  entry('invoice|invoices', '发票'),
  entry('payment|payments|pay', '支付|付款|缴费'),
  entry('payment method|pay method|payment type', '支付方式|付款方式'),
  entry('paid', '已支付|已付款'),
  entry('late|overdue', '逾期|延迟'),
  entry('paid late|late payment', '逾期付款|逾期缴费'),
  entry('paperless', '无纸化'),
  entry('paperless billing', '无纸化账单|电子账单'),
  entry('refund|refunds', '退款'),
  entry('discount|discounts', '折扣|优惠'),
  entry('profit', '利润'),
  entry('gross profit', '毛利|毛利润'),
  entry('margin', '利润率|毛利率'),
  entry('tax', '税|税额'),
  entry('budget', '预算'),
  entry('expense|expenses', '支出|费用'),
  entry('balance', '余额'),
  entry('credit', '信用|授信'),
  entry('credit card', '信用卡'),
  entry('debit card', '借记卡'),
  entry('credit score', '信用分|信用评分'),
  entry('loan|loans', '贷款'),
  entry('interest', '利息'),
  entry('interest rate', '利率'),
  entry('deposit', '存款|押金'),
  entry('transaction|transactions|txn', '交易'),
  entry('currency', '币种|货币'),
  entry('gmv', 'GMV|成交总额'),
  entry('arpu', 'ARPU|每用户平均收入'),
  entry('bank transfer', '银行转账'),
  entry('bank transfer automatic', '自动银行转账|银行自动转账'),
  entry('credit card automatic', '信用卡自动扣款|信用卡自动支付'),
  entry('electronic check|e-check', '电子支票'),
  entry('mailed check', '邮寄支票'),
  entry('check|cheque', '支票'),
  entry('cash', '现金'),
  entry('wallet', '钱包'),
  entry('usd|dollar|dollars', '美元'),
  entry('cny|rmb|yuan', '人民币|元'),
];

const commerce = [
  entry('order|orders', '订单'),
  entry('product|products', '产品|商品'),
  entry('item|items', '商品|条目'),
  entry('sku', 'SKU|库存单位'),
  entry('goods|merchandise', '商品|货品'),
  entry('quantity|qty', '数量'),
  entry('unit', '单位'),
  entry('brand', '品牌'),
  entry('category|categories', '类别|品类'),
  entry('store|shop', '门店|店铺'),
  entry('channel', '渠道'),
  entry('supplier|vendor', '供应商'),
  entry('inventory|stock', '库存'),
  entry('warehouse', '仓库'),
  entry('shipment|shipping', '发货|运输'),
  entry('delivery', '配送|交付'),
  entry('return|returns', '退货'),
  entry('cart', '购物车'),
  entry('purchase|purchases', '购买|采购'),
  entry('coupon|coupons|voucher', '优惠券'),
  entry('promotion|promo', '促销'),
  entry('contract|contracts', '合同|合约'),
  entry('month to month', '按月|月付'),
  entry('one year', '一年|一年期'),
  entry('two year|two years', '两年|两年期'),
  entry('subscription|subscriptions', '订阅'),
  entry('plan', '套餐|计划'),
  entry('package', '套餐|包裹'),
];

const time = [
  entry('date', '日期'),
  entry('time', '时间'),
  entry('datetime|timestamp', '时间戳|时间'),
  entry('year|years', '年|年份'),
  entry('quarter', '季度'),
  entry('month|months', '月|月份'),
  entry('week', '周'),
  entry('day|days', '天|日'),
  entry('hour|hours', '小时'),
  entry('minute|minutes', '分钟'),
  entry('second|seconds', '秒'),
  entry('monthly', '每月|月度'),
  entry('yearly|annual', '每年|年度'),
  entry('daily', '每日|日度'),
  entry('weekly', '每周|周度'),
  entry('created|created at|create time', '创建时间'),
  entry('updated|updated at|update time', '更新时间'),
  entry('start|start date', '开始日期|开始'),
  entry('end|end date', '结束日期|结束'),
  entry('duration', '时长'),
  entry('period', '期间|周期'),
  entry('tenure', '在网时长|在网月数|使用时长'),
  entry('bill month|billing month', '账单月份|计费月份'),
];

const places = [
  entry('region', '地区|区域'),
  entry('area', '区域|面积'),
  entry('city', '城市'),
  entry('country', '国家'),
  entry('province', '省份|省'),
  entry('state', '州|省份'),
  entry('district', '区|区县'),
  entry('location', '位置|地点'),
  entry('latitude|lat', '纬度'),
  entry('longitude|lng|lon', '经度'),
];

const telecomAndServices = [
  entry('service|services', '业务|服务'),
  entry('phone service', '电话服务|电话业务'),
  entry('multiple lines', '多线路|多条线路'),
  entry('line|lines', '线路'),
  entry('internet', '网络|互联网'),
  entry('internet service', '网络服务|宽带服务|宽带类型'),
  entry('no phone service', '无电话服务'),
  entry('no internet service', '无网络服务'),
  entry('fiber optic|fiber|fibre', '光纤'),
  entry('broadband', '宽带'),
  entry('online', '在线|线上'),
  entry('offline', '离线|线下'),
  entry('security', '安全'),
  entry('online security', '在线安全|网络安全服务'),
  entry('backup', '备份'),
  entry('online backup', '在线备份|云备份'),
  entry('device', '设备'),
  entry('protection', '保护|保障'),
  entry('device protection', '设备保护|设备保险'),
  entry('support', '支持|客服'),
  entry('tech support|technical support', '技术支持'),
  entry('streaming', '流媒体'),
  entry('tv|television', '电视'),
  entry('streaming tv', '流媒体电视|网络电视'),
  entry('movies|movie', '电影'),
  entry('streaming movies', '流媒体电影|在线电影'),
  entry('churn|churned|attrition', '流失|流失用户'),
  entry('churn rate|attrition rate', '流失率'),
  entry('retention|retained', '留存'),
  entry('retention rate', '留存率'),
  entry('data usage|traffic', '流量'),
  entry('call|calls', '通话|呼叫'),
  entry('sms|message|messages', '短信|消息'),
];

const marketingAndWeb = [
  entry('visit|visits', '访问'),
  entry('visitor|visitors', '访客'),
  entry('session|sessions', '会话'),
  entry('page view|page views|pv', '浏览量|页面浏览量'),
  entry('uv|unique visitors', '独立访客|访客数'),
  entry('click|clicks', '点击'),
  entry('impression|impressions', '曝光|展示'),
  entry('conversion|conversions', '转化'),
  entry('conversion rate', '转化率'),
  entry('campaign|campaigns', '活动|营销活动'),
  entry('source', '来源'),
  entry('referrer', '来源页|推荐人'),
  entry('keyword|keywords', '关键词'),
  entry('ad|ads|advertisement', '广告'),
  entry('rating|ratings', '评分|评级'),
  entry('score', '分数|得分'),
  entry('review|reviews', '评价|评论'),
  entry('feedback', '反馈'),
  entry('complaint|complaints', '投诉'),
  entry('ticket|tickets', '工单'),
  entry('login|logins', '登录'),
  entry('registration|signup|sign up', '注册'),
  entry('active', '活跃'),
  entry('new', '新|新增'),
  entry('app', '应用|App'),
  entry('platform', '平台'),
  entry('browser', '浏览器'),
  entry('os|operating system', '操作系统'),
];

const statusAndMeasures = [
  entry('status', '状态'),
  entry('type|kind', '类型'),
  entry('flag|indicator', '标志|标识'),
  entry('method', '方式|方法'),
  entry('total', '总|合计|总计'),
  entry('sum', '总和|合计'),
  entry('average|avg|mean', '平均|平均值'),
  entry('median', '中位数'),
  entry('count|cnt', '数量|计数|个数'),
  entry('rate|ratio', '比率|率'),
  entry('percent|percentage|pct', '百分比|占比'),
  entry('share', '占比|份额'),
  entry('growth', '增长|增长率'),
  entry('min|minimum', '最小|最小值'),
  entry('max|maximum', '最大|最大值'),
  entry('value', '值|价值'),
  entry('weight', '重量|权重'),
  entry('size', '大小|尺寸'),
  entry('length', '长度'),
  entry('height', '高度'),
  entry('width', '宽度'),
  entry('volume', '体积|成交量'),
  entry('description|desc', '描述|说明'),
  entry('comment|comments|note|notes|remark', '备注|说明'),
  entry('tag|tags|label', '标签'),
  entry('group', '组|分组'),
  entry('segment', '分群|细分'),
  entry('yes|y', '是'),
  entry('no|n', '否'),
  entry('true', '是|真'),
  entry('false', '否|假'),
  entry('none|n/a', '无'),
  entry('unknown', '未知'),
  entry('other|others', '其他'),
  entry('automatic|auto', '自动'),
  entry('manual', '手动'),
  entry('enabled', '已启用|开通'),
  entry('disabled', '已停用|未开通'),
  entry('deleted', '已删除'),
  entry('pending', '待处理|处理中'),
  entry('completed|complete|done', '已完成'),
  entry('cancelled|canceled', '已取消'),
  entry('failed', '失败'),
  entry('success|succeeded', '成功'),
  entry('open', '打开|未结'),
  entry('closed', '已关闭|已结'),
  entry('approved', '已批准|已通过'),
  entry('rejected', '已拒绝'),
];

/** Grouped by subject so a reader can find a term; the analyst sees one flat list. */
export const lexicon: readonly LexiconEntry[] = [
  ...peopleAndAccounts,
  ...identifiersAndContact,
  ...money,
  ...commerce,
  ...time,
  ...places,
  ...telecomAndServices,
  ...marketingAndWeb,
  ...statusAndMeasures,
];

/** Words that carry no meaning of their own in a column name (`is_active`, `has_partner`). */
const fillerWords = new Set(['is', 'has', 'the', 'of', 'a', 'an', 'to', 'by', 'per', 'in', 'at', 'for']);

const byEnglish = new Map<string, LexiconEntry>();
for (const item of lexicon) {
  for (const english of item.english) if (!byEnglish.has(english)) byEnglish.set(english, item);
}

/** English forms to try for a word: as written, then the usual plural endings removed. */
function singularForms(word: string): string[] {
  const forms = [word];
  if (word.endsWith('ies')) forms.push(`${word.slice(0, -3)}y`);
  if (word.endsWith('es')) forms.push(word.slice(0, -2));
  if (word.endsWith('s') && !word.endsWith('ss')) forms.push(word.slice(0, -1));
  return forms;
}

/** The entry for an English word or phrase (any case, words separated by spaces). */
export function lookupEnglish(phrase: string): LexiconEntry | undefined {
  const words = phrase.trim().toLowerCase().split(/\s+/);
  const last = words.pop();
  if (last === undefined) return undefined;
  for (const form of singularForms(last)) {
    const found = byEnglish.get([...words, form].join(' '));
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Every entry that lists a Chinese term. */
export function lookupChinese(term: string): LexiconEntry[] {
  const trimmed = term.trim();
  return lexicon.filter((item) => item.chinese.includes(trimmed));
}

export interface Translation {
  /** Chinese terms: all of an entry's terms when one entry covers the whole phrase, else one composed term. */
  chinese: string[];
  /** Other English ways to say the whole phrase (never the phrase itself); empty for composed terms. */
  english: string[];
}

/**
 * Chinese terms for a phrase given as words (`['monthly', 'charges']`): the entry for the whole
 * phrase when there is one, else a term composed from the longest entries covering each part
 * (`['customer', 'segment']` → 客户分群). Undefined when some word is not in the lexicon.
 */
export function translateWords(words: readonly string[]): Translation | undefined {
  const all = words.map((word) => word.toLowerCase());
  const meaningful = all.filter((word) => !fillerWords.has(word));
  if (meaningful.length === 0) return undefined;
  // `month to month` is an entry of its own; `is active` is only found without its filler word.
  for (const phrase of [all.join(' '), meaningful.join(' ')]) {
    const whole = lookupEnglish(phrase);
    if (whole !== undefined) {
      return { chinese: [...whole.chinese], english: whole.english.filter((english) => english !== phrase && !isInflection(english, phrase)) };
    }
  }
  let composed = '';
  let start = 0;
  while (start < meaningful.length) {
    let matched = false;
    for (let end = meaningful.length; end > start; end -= 1) {
      const found = lookupEnglish(meaningful.slice(start, end).join(' '));
      if (found !== undefined) {
        composed += found.chinese[0] ?? '';
        start = end;
        matched = true;
        break;
      }
    }
    if (!matched) return undefined;
  }
  return { chinese: [composed], english: [] };
}

/** `charges` and `charge` are the same word for a synonym list. */
function isInflection(candidate: string, phrase: string): boolean {
  return singularForms(candidate).includes(phrase) || singularForms(phrase).includes(candidate);
}
